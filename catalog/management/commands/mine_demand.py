"""Weekly demand report: what customers asked for that the shop does not sell, with trends."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.demand import demand_mine, last_full_week
from omnichannel.errors import InvalidPayload


class Command(BaseCommand):
    help = "Count product requests per week with a trend score; write the CSV (also kept in the blob store)."

    def add_arguments(self, parser):
        parser.add_argument("--week", help="ISO week like 2026-W47 (default: last full week)")
        parser.add_argument("--csv", type=Path, help="also write the CSV to this path")

    def handle(self, *args, week, csv, **options):
        try:
            rows, text, key = demand_mine(week=week or last_full_week())
        except InvalidPayload as exc:
            raise CommandError(exc.message) from exc
        if csv:
            csv.write_text(text)
        self.stdout.write(text)
        self.stdout.write(f"{len(rows)} request(s); stored as {key}")
