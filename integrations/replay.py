"""The sweep for stalled webhook deliveries (the replay command shares integrations/intake.py).

A worker killed mid-task (SIGKILL, OOM, a lost node) leaves its delivery `processing`; the Redis
broker hands its unacknowledged task to another worker only after the visibility timeout (an
hour), and can lose a task outright whose worker died between taking it and recording it as
unacknowledged. The payload is stored, so this sweep, every minute, re-queues:

- deliveries `processing` whose lease has expired: their worker stopped renewing it
  (omnichannel/leases.py), so it is dead. Recovery after a killed worker therefore takes at most
  WORK_LEASE_SECONDS (30) plus the sweep's minute;
- deliveries `received` or `queued` untouched for QUEUED_STALL_SECONDS: a drain or a processing
  task lost with its worker. A delivery merely waiting in a long backlog may be re-queued too; the
  claim refuses the duplicate (one UPDATE), and re-queuing touches it, so at most once a minute.

A delivery that never finishes (it kills or times out its worker every time) is not handed on
forever: after DELIVERY_MAX_ATTEMPTS claims it is marked failed, with the reason, for an operator.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from integrations.intake import PROCESSORS, deliveries_enqueue, deliveries_take
from omnichannel.metrics import webhook_deliveries_total
from omnichannel.models import WebhookDelivery
from omnichannel.task_names import TaskName
from omnichannel.webhook_deliveries import webhook_delivery_lease_expired

QUEUED_STALL_SECONDS = 60
DELIVERY_MAX_ATTEMPTS = 10
NEVER_FINISHED_ERROR = ("processing never finished in {attempts} attempts (its worker was killed or ran out of time "
                        "each time); replay it with replay_webhooks --failed once the cause is fixed")


def deliveries_replay_stalled(*, older_than: timedelta | None = None, limit: int = 5_000) -> int:
    """Re-queue deliveries nobody is working on: `processing` under an expired lease, or `received` /
    `queued` untouched for `older_than` (default QUEUED_STALL_SECONDS)."""
    now = timezone.now()
    if older_than is None:
        older_than = timedelta(seconds=QUEUED_STALL_SECONDS)
    ours = WebhookDelivery.objects.filter(is_erased=False, source__in=list(PROCESSORS))
    abandoned = webhook_delivery_lease_expired(now=now)
    # Not fenced by the claim's attempt number: a worker that reaches its finish after this still
    # writes its outcome, the same one the next attempt would reach (processing is idempotent).
    for delivery_id, source, attempts in ours.filter(abandoned, attempts__gte=DELIVERY_MAX_ATTEMPTS).values_list(
            "pk", "source", "attempts"):
        if WebhookDelivery.objects.filter(abandoned, pk=delivery_id).update(
                status=WebhookDelivery.Status.FAILED, last_error=NEVER_FINISHED_ERROR.format(attempts=attempts),
                lease_expires_at=None, processed_at=now, updated_at=now):
            webhook_deliveries_total.labels(source=source, status=WebhookDelivery.Status.FAILED).inc()
    stalled = ours.filter(
        abandoned | Q(status__in=[WebhookDelivery.Status.RECEIVED, WebhookDelivery.Status.QUEUED],
                      updated_at__lt=now - older_than))
    # Taken (moved to `queued`) first, so a drain or another sweep running at the same time cannot send
    # them twice. replay=False: a stalled delivery is re-tried as it was; failed ones wait for an operator.
    return deliveries_enqueue(deliveries_take(stalled, limit=limit), replay=False)


@shared_task(name=TaskName.REPLAY_STALLED_DELIVERIES, acks_late=True)
def replay_stalled_deliveries() -> int:
    """Scheduled every minute (omnichannel/schedules.py)."""
    return deliveries_replay_stalled()
