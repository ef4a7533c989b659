from django.core.management.base import BaseCommand, CommandError

from omnichannel.backups import backup_restore
from omnichannel.errors import ApplicationError


class Command(BaseCommand):
    help = ("Restore a backup from the blob store into the (empty) database named by --into, then erase again "
            "what was erased since the backup (the erasure ledger).")

    def add_arguments(self, parser):
        parser.add_argument("key", help="e.g. backups/db-20261125T030000000000Z.dump")
        parser.add_argument("--into", required=True, help="postgres://… of an empty database")

    def handle(self, *args, key, into, **options):
        try:
            lines = backup_restore(key=key, into_url=into)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"restored {key} into {into.rsplit('@', 1)[-1]}")
        for line in lines:
            self.stdout.write(line)
