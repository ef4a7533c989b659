from django.apps import AppConfig


class AssistantsConfig(AppConfig):
    name = "assistants"

    def ready(self) -> None:
        from assistants.erasure import model_runs_erase
        from assistants.vectorstore import vectorstore_check
        from customers.signals import customer_erased
        from omnichannel.health import register_check

        register_check("chroma", vectorstore_check)
        customer_erased.connect(model_runs_erase, dispatch_uid="assistants.model_runs_erase")
