"""Process stored webhook deliveries again (after a fix, an outage, or for failed ones)."""

from django.core.management.base import BaseCommand, CommandError

from integrations.intake import PROCESSORS, deliveries_enqueue
from omnichannel.models import WebhookDelivery


class Command(BaseCommand):
    help = "Re-process stored deliveries: by default the ones never processed; --failed for failed ones."

    def add_arguments(self, parser):
        parser.add_argument("--source", choices=sorted(PROCESSORS), help="only this source")
        parser.add_argument("--failed", action="store_true", help="replay failed deliveries")
        parser.add_argument("--id", type=int, action="append", dest="ids", help="replay these delivery ids")
        parser.add_argument("--limit", type=int, default=10_000)

    def handle(self, *args, source, failed, ids, limit, **options):
        deliveries = WebhookDelivery.objects.filter(is_erased=False)
        if source:
            deliveries = deliveries.filter(source=source)
        if ids:
            deliveries = deliveries.filter(pk__in=ids)
        else:
            statuses = [WebhookDelivery.Status.FAILED] if failed else [WebhookDelivery.Status.RECEIVED,
                                                                       WebhookDelivery.Status.QUEUED]
            deliveries = deliveries.filter(status__in=statuses)
        rows = list(deliveries.order_by("received_at", "pk").values_list("pk", "source", "correlation_id")[:limit])
        try:
            queued = deliveries_enqueue(rows)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"queued {queued} deliveries for replay")
