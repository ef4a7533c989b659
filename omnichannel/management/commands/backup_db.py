from django.core.management.base import BaseCommand, CommandError

from omnichannel.backups import backup_create
from omnichannel.errors import ApplicationError


class Command(BaseCommand):
    help = "pg_dump (custom format) into the blob store under backups/, keeping the newest BACKUP_KEEP."

    def add_arguments(self, parser):
        parser.add_argument("--keep", type=int, default=None)

    def handle(self, *args, keep, **options):
        try:
            self.stdout.write(f"backup stored as {backup_create(keep=keep)}")
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
