"""Re-read Shopify from each resource's cursor (the nightly reconciliation; resumable)."""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime
from tqdm import tqdm

from integrations.shopify.backfill import RESOURCES, VIAS, backfill_run
from integrations.shopify.client import ShopifyError
from omnichannel.errors import StateConflict


class Command(BaseCommand):
    help = "Page through Shopify customers, orders and inventory changed since the cursor and upsert them."

    def add_arguments(self, parser):
        parser.add_argument("--resource", choices=[*RESOURCES, "all"], default="all")
        parser.add_argument("--since", help="ISO time to start from instead of the cursor")
        parser.add_argument("--full", action="store_true", help="ignore the cursor and read everything")
        parser.add_argument("--via", choices=VIAS, default="rest",
                            help="rest: page through the REST Admin API; bulk: one GraphQL bulk export per resource "
                                 "(suits large shops)")

    def handle(self, *args, resource, since, full, via, **options):
        since_at = parse_datetime(since) if since else None
        if since and (since_at is None or since_at.tzinfo is None):
            raise CommandError(f"--since {since!r} is not an ISO time with a timezone (e.g. 2026-11-01T00:00:00Z)")
        bar = tqdm(desc="shopify records", unit="rec", disable=not sys.stderr.isatty())
        try:
            reports = backfill_run(resources=None if resource == "all" else [resource], since=since_at, full=full,
                                   progress=bar.update, via=via)
        except StateConflict as exc:  # e.g. the app was uninstalled: say so, no traceback
            raise CommandError(exc.message) from None
        except ShopifyError as exc:
            raise CommandError(f"Shopify: {exc} (the cursor keeps the last committed page; run again to resume)") from exc
        finally:
            bar.close()
        for name, r in reports.items():
            self.stdout.write(f"{name:<10} pages {r['pages']:>5}  upserted {r['upserted']:>7}  stale {r['stale']:>5}  "
                              f"invalid {r['invalid']:>4}")
