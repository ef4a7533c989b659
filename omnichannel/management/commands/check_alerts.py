"""Evaluate the alerts from the database; exit 1 when any fires (for cron and CI checks)."""

from django.core.management.base import BaseCommand, CommandError

from omnichannel.alerts import alerts_check


class Command(BaseCommand):
    help = "Stale Shopify cursor, failing Zoho webhook retries, too many pending drafts: print, audit, exit 1 if any."

    def handle(self, *args, **options):
        firing = alerts_check()
        for alert in firing:
            self.stdout.write(f"FIRING  {alert.name}: {alert.summary}")
        if firing:
            raise CommandError(f"{len(firing)} alert(s) firing")
        self.stdout.write("no alerts firing")
