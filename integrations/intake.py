"""From a stored webhook delivery to its processing task, without a broker round trip per request.

The webhook views only store the raw delivery (one INSERT) and wake the drain; publishing a
Celery task per request cost more than the rest of the intake together. Waking is collapsed into
windows of WAKE_WINDOW_MS: the first delivery of a window sets a Redis flag that lives for the
window (`SET NX PX`) and queues one `drain_webhook_deliveries` to run when the window closes. Every
web process remembers until when the flag it saw lives, so the rest of the window costs it
nothing: the drain is due after the flag expires, and it waits for that in Redis's own clock
before it looks, so every delivery committed while the flag lived is seen. After the window the
next delivery opens a new one. Processing therefore starts within about one window.

The drain moves `received` deliveries to `queued` (rows locked with SKIP LOCKED, so two drains
never take the same one) and sends each its source's processing task. A drain lost with a killed
worker leaves its deliveries `received`: the next window's drain takes them, and the
`replay_stalled_deliveries` sweep (integrations/replay.py) re-queues anything left behind. With
tasks inline (SYNC_USE_CELERY=0) there is nothing to collapse: the drain runs after each commit.
"""

from __future__ import annotations

import logging
import time
from functools import cache

import redis
from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from omnichannel import correlation
from omnichannel.jobs import enqueue
from omnichannel.models import WebhookDelivery
from omnichannel.task_names import TaskName

logger = logging.getLogger(__name__)

WAKE_KEY = "omnichannel:intake:drain-due"
WAKE_WINDOW_MS = 1000
DRAIN_BATCH = 500
# Each source's processing task (a contract name); both take (delivery_id, replay=True).
PROCESSORS = {"zoho": TaskName.PROCESS_INCOMING_EMAIL, "shopify": TaskName.PROCESS_SHOPIFY_EVENT}

# This process's knowledge (time.monotonic()) of until when the current window's flag lives.
_window_open_until = 0.0


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def _windows() -> bool:
    # Without Redis there is no flag all processes share: queue a drain for every delivery.
    return bool(settings.SYNC_USE_CELERY and settings.REDIS_URL)


def delivery_wake() -> None:
    """Have newly stored deliveries processed (after the current transaction commits)."""
    transaction.on_commit(_wake)


def _wake() -> None:
    try:
        _open_window()
    except (RedisError, KombuOperationalError) as exc:
        # The delivery is stored (that is what the sender was promised); the stalled-delivery sweep
        # or the next window's drain takes it. The answer stays 200: a retry would only be a duplicate.
        logger.error("could not wake the webhook drain (%s); stored deliveries wait for the next drain", exc)


def _open_window() -> None:
    global _window_open_until
    if not _windows():
        drain_webhook_deliveries.delay()  # inline when SYNC_USE_CELERY=0
        return
    now = time.monotonic()
    if now < _window_open_until:
        return  # a drain is due when this window closes, and will see this delivery
    pipe = _redis().pipeline(transaction=False)
    pipe.set(WAKE_KEY, "1", nx=True, px=WAKE_WINDOW_MS)
    pipe.pttl(WAKE_KEY)
    opened, ttl_ms = pipe.execute()
    if ttl_ms > 0:
        # `now` was read before Redis counted the TTL, so this errs early, on the safe side.
        _window_open_until = now + ttl_ms / 1000
    if opened:
        drain_webhook_deliveries.apply_async(countdown=WAKE_WINDOW_MS / 1000)


def _wait_for_the_window_to_close() -> None:
    for _ in range(10):  # the flag lives WAKE_WINDOW_MS; never wait on it for long whatever happens
        ttl_ms = _redis().pttl(WAKE_KEY)
        if ttl_ms <= 0:
            return
        time.sleep(ttl_ms / 1000)


def deliveries_enqueue(rows: list[tuple[int, str, str]], *, replay: bool = True) -> int:
    """Send each (id, source, correlation id) to its source's processing task. Each task carries the
    id of the request that brought its delivery, not the drain's or the sweep's: a drain queues a
    whole window of requests, and tracing one email's X-Correlation-ID must find only its rows."""
    unknown = {src for _, src, _ in rows if src not in PROCESSORS}
    if unknown:
        raise ValueError(f"no processor for source(s) {', '.join(sorted(unknown))}")
    for pk, src, correlation_id in rows:
        with correlation.use(correlation_id or correlation.ensure()):
            enqueue(PROCESSORS[src], pk, replay=replay)
    return len(rows)


def deliveries_take(queryset, *, limit: int = DRAIN_BATCH) -> list[tuple[int, str, str]]:
    """Move up to `limit` deliveries of `queryset` to `queued` and return (id, source, correlation id)
    of each. Locked rows are skipped: another drain or sweep has them."""
    with transaction.atomic():
        rows = list(queryset.select_for_update(skip_locked=True).order_by("received_at", "pk")
                    .values_list("pk", "source", "correlation_id")[:limit])
        if rows:
            WebhookDelivery.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(
                status=WebhookDelivery.Status.QUEUED, updated_at=timezone.now())
    return rows


def deliveries_drain(*, batch: int = DRAIN_BATCH) -> int:
    if _windows():
        _wait_for_the_window_to_close()  # see the module docstring
    received = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.RECEIVED, is_erased=False,
                                              source__in=list(PROCESSORS))
    queued = 0
    while rows := deliveries_take(received, limit=batch):
        queued += deliveries_enqueue(rows, replay=False)
        if len(rows) < batch:
            break
    return queued


@shared_task(name=TaskName.DRAIN_WEBHOOK_DELIVERIES, acks_late=True)
def drain_webhook_deliveries() -> int:
    return deliveries_drain()
