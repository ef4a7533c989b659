from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"

    def ready(self) -> None:
        from customers.services_erasure_replay import erasure_ledger_on_restore
        from omnichannel.backups import database_restored

        # A restored backup predates the erasures made since: they are made again (the erasure ledger).
        database_restored.connect(erasure_ledger_on_restore, dispatch_uid="customers.erasure_ledger_replay")
