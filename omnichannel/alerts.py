"""The alerts, evaluated from the database (for setups without Prometheus).

The seed's three (a stale Shopify cursor, failing webhook deliveries, too many pending drafts)
and a reply that failed to send for good. The same conditions are Prometheus rules in
deploy/prometheus/alerts.yml; this is the fallback that `check_alerts` (task every 5 minutes,
and command) runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from omnichannel.audit import audit_log_write
from omnichannel.task_names import TaskName

logger = logging.getLogger("omnichannel.alerts")


@dataclass(frozen=True)
class Alert:
    name: str
    summary: str
    value: float


def alerts_evaluate() -> list[Alert]:
    from conversations.models import Draft
    from conversations.services.sending import drafts_send_failed_for_good
    from integrations.models import ShopifyCursor
    from omnichannel.models import WebhookDelivery

    now = timezone.now()
    firing = []
    stale_before = now - timedelta(minutes=settings.ALERT_CURSOR_STALE_MINUTES)
    for cursor in ShopifyCursor.objects.exclude(last_delta_at__isnull=True).filter(last_delta_at__lt=stale_before):
        minutes = (now - cursor.last_delta_at).total_seconds() / 60
        firing.append(Alert("ShopifyCursorStale", f"Shopify {cursor.resource}: no delta for {minutes:.0f} minutes",
                            round(minutes, 1)))
    window = now - timedelta(hours=settings.ALERT_FAILED_WEBHOOKS_WINDOW_HOURS)
    # Every source: a Shopify delivery that failed is an order or a customer we do not hold right. Only
    # deliveries whose processing was tried (attempts >= 1): a body refused at the door was answered 400,
    # so its sender already knows. Failed and still failed: a retry that succeeded made it processed.
    failed = (WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED, attempts__gte=1, updated_at__gte=window)
              .values("source").annotate(count=Count("pk")).order_by("source").values_list("source", "count"))
    for source, count in failed:
        firing.append(Alert("WebhookDeliveriesFailing",
                            f"{count} {source} deliveries failed processing; replay with manage.py replay_webhooks "
                            f"--source {source} --failed once the cause is fixed", count))
    unsent = drafts_send_failed_for_good().filter(updated_at__gte=window).count()
    if unsent:
        firing.append(Alert("ReplySendFailed", f"{unsent} approved replies failed to send for good (refused, "
                            "interrupted or out of tries): see the failed sends on the agents' home", unsent))
    pending = Draft.objects.filter(status=Draft.Status.PENDING).count()
    if pending > settings.ALERT_PENDING_DRAFTS_MAX:
        firing.append(Alert("TooManyPendingDrafts",
                            f"{pending} drafts wait for review (limit {settings.ALERT_PENDING_DRAFTS_MAX})", pending))
    return firing


def alerts_check() -> list[Alert]:
    firing = alerts_evaluate()
    for alert in firing:
        logger.warning("alert firing: %s", alert.summary, extra={"alert": alert.name, "value": alert.value})
        audit_log_write(event_type="alert.firing", payload={"alert": alert.name, "summary": alert.summary,
                                                            "value": alert.value}, integration=TaskName.CHECK_ALERTS)
    return firing
