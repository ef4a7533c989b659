"""Erase again, in this database, what the erasure ledger says was erased (a database restored by other
means than `restore_db`: a provider's snapshot, a pg_restore by hand). Destructive: needs --yes."""

from django.core.management.base import BaseCommand

from customers.erasure_ledger import erasure_ledger_read
from customers.services_erasure_replay import erasure_ledger_replay


class Command(BaseCommand):
    help = "Recreate the erasure ledger's tombstones here and erase again the rows they name. Dry run unless --yes."

    def add_arguments(self, parser):
        parser.add_argument("--yes", action="store_true", help="really erase (otherwise only count the ledger)")

    def handle(self, *args, yes, **options):
        if not yes:
            self.stdout.write(f"Dry run: the ledger holds {len(erasure_ledger_read())} tombstones. "
                              "Run again with --yes to re-apply them to this database.")
            return
        replay = erasure_ledger_replay()
        self.stdout.write(f"{replay.tombstones_restored} tombstones restored, {len(replay.customers_erased)} customers "
                          f"and {len(replay.orders_erased)} orders erased again")
