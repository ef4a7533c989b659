"""Poll a Zoho Mail folder from its checkpoint (the fallback for missed webhooks)."""

import sys

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime
from tqdm import tqdm

from integrations.zoho.client import ZohoClient, ZohoError
from integrations.zoho.sync import zoho_sync_folder


class Command(BaseCommand):
    help = ("List the folder newest first down to its checkpoint, then ingest the new messages oldest first; "
            "resumable after a crash.")

    def add_arguments(self, parser):
        parser.add_argument("--since", help="ISO time to start from instead of the stored checkpoint")
        parser.add_argument("--folder", default=None, help="folder name or id (default ZOHO_INBOX_FOLDER_ID)")

    def handle(self, *args, since, folder, **options):
        since_at = None
        if since:
            since_at = parse_datetime(since)
            if since_at is None or since_at.tzinfo is None:
                raise CommandError(f"--since {since!r} is not an ISO time with a timezone (e.g. 2026-11-01T00:00:00Z)")
        bar = tqdm(desc="zoho messages", unit="msg", disable=not sys.stderr.isatty())
        try:
            counts = zoho_sync_folder(client=ZohoClient.from_settings(), folder=folder or settings.ZOHO_INBOX_FOLDER_ID,
                                      since=since_at, progress=lambda _m: bar.update(1),
                                      on_total=lambda total: bar.reset(total=total))
        except (ZohoError, requests.RequestException) as exc:  # the checkpoint holds: the next run resumes
            raise CommandError(f"Zoho: {exc}") from exc
        finally:
            bar.close()
        self.stdout.write(", ".join(f"{k} {v}" for k, v in counts.items()))
