"""Re-queue stored webhook deliveries: the replay command and the sweep for stalled ones.

The Redis broker can lose a task whose worker is killed between taking it off the queue and
recording it as unacknowledged, and an inline handler can die with its process. The payload is
already stored, so a sweep re-queues every delivery left `received` or `processing` for longer
than any task may run; the claim in `webhook_delivery_claim` keeps a re-queued delivery from
being ingested twice.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from omnichannel.jobs import enqueue
from omnichannel.models import WebhookDelivery

# Each source's processing task (a contract name); both take (delivery_id, replay=True).
PROCESSORS = {"zoho": "process_incoming_email_task", "shopify": "process_shopify_event_task"}


def deliveries_enqueue(rows: list[tuple[int, str]], *, replay: bool = True) -> int:
    unknown = {src for _, src in rows if src not in PROCESSORS}
    if unknown:
        raise ValueError(f"no processor for source(s) {', '.join(sorted(unknown))}")
    for pk, src in rows:
        enqueue(PROCESSORS[src], pk, replay=replay)
    return len(rows)


def deliveries_replay_stalled(*, older_than: timedelta | None = None, limit: int = 5_000) -> int:
    """Re-queue deliveries nobody finished: untouched for `older_than` (default: past the hard task
    time limit, so a delivery still being worked on is never picked)."""
    if older_than is None:
        older_than = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT * 2)
    stalled = WebhookDelivery.objects.filter(
        is_erased=False, source__in=list(PROCESSORS),
        status__in=[WebhookDelivery.Status.RECEIVED, WebhookDelivery.Status.PROCESSING],
        updated_at__lt=timezone.now() - older_than,
    ).order_by("received_at", "pk").values_list("pk", "source")[:limit]
    # replay=False: a stalled delivery is re-tried as it was; failed ones wait for an operator.
    return deliveries_enqueue(list(stalled), replay=False)


@shared_task(name="replay_stalled_deliveries", acks_late=True)
def replay_stalled_deliveries() -> int:
    """Scheduled every 10 minutes (omnichannel/schedules.py)."""
    return deliveries_replay_stalled()
