"""Archive closed conversations past retention, then erase their PII. Dry run unless --execute."""

from django.core.management.base import BaseCommand

from conversations.services.retention import conversations_archive_due, conversations_due_for_archive


class Command(BaseCommand):
    help = ("Export closed conversations older than RETENTION_MONTHS to the blob store (encrypted) and erase their "
            "PII; delete archives older than ARCHIVE_KEEP_DAYS.")

    def add_arguments(self, parser):
        parser.add_argument("--execute", action="store_true", help="really archive (otherwise list what is due)")

    def handle(self, *args, execute, **options):
        due = conversations_due_for_archive()
        if not execute:
            self.stdout.write(f"Dry run: {len(due)} conversation(s) due: {due[:20]}. Run with --execute to archive.")
            return
        archived = conversations_archive_due()
        self.stdout.write(f"archived {archived} conversation(s)")
