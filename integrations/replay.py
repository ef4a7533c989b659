"""The sweep for stalled webhook deliveries (the replay command shares integrations/intake.py).

The Redis broker can lose a task whose worker is killed between taking it off the queue and
recording it as unacknowledged, and an inline handler can die with its process. The payload is
already stored, so a sweep re-queues every delivery left `received`, `queued` or `processing` longer
than any task may run; the claim in `webhook_delivery_claim` keeps a re-queued delivery from
being ingested twice.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from integrations.intake import PROCESSORS, deliveries_enqueue, deliveries_take
from omnichannel.models import WebhookDelivery


def deliveries_replay_stalled(*, older_than: timedelta | None = None, limit: int = 5_000) -> int:
    """Re-queue deliveries nobody finished: untouched for `older_than` (default: past the hard task
    time limit, so a delivery still being worked on is never picked)."""
    if older_than is None:
        older_than = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT * 2)
    stalled = WebhookDelivery.objects.filter(
        is_erased=False, source__in=list(PROCESSORS),
        status__in=[WebhookDelivery.Status.RECEIVED, WebhookDelivery.Status.QUEUED, WebhookDelivery.Status.PROCESSING],
        updated_at__lt=timezone.now() - older_than,
    )
    # Taken (moved to `queued`) first, so a drain running at the same time cannot send them twice.
    # replay=False: a stalled delivery is re-tried as it was; failed ones wait for an operator.
    return deliveries_enqueue(deliveries_take(stalled, limit=limit), replay=False)


@shared_task(name="replay_stalled_deliveries", acks_late=True)
def replay_stalled_deliveries() -> int:
    """Scheduled every 10 minutes (omnichannel/schedules.py)."""
    return deliveries_replay_stalled()
