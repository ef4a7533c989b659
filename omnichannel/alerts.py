"""The seed's three alerts, evaluated from the database (for setups without Prometheus).

The same conditions are Prometheus rules in deploy/prometheus/alerts.yml; this is the
fallback that `check_alerts` (task every 5 minutes, and command) runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from omnichannel.audit import audit_log_write

logger = logging.getLogger("omnichannel.alerts")


@dataclass(frozen=True)
class Alert:
    name: str
    summary: str
    value: float


def alerts_evaluate() -> list[Alert]:
    from conversations.models import Draft
    from integrations.models import ShopifyCursor
    from omnichannel.models import WebhookDelivery

    now = timezone.now()
    firing = []
    stale_before = now - timedelta(minutes=settings.ALERT_CURSOR_STALE_MINUTES)
    for cursor in ShopifyCursor.objects.exclude(last_delta_at__isnull=True).filter(last_delta_at__lt=stale_before):
        minutes = (now - cursor.last_delta_at).total_seconds() / 60
        firing.append(Alert("ShopifyCursorStale", f"Shopify {cursor.resource}: no delta for {minutes:.0f} minutes",
                            round(minutes, 1)))
    failed = WebhookDelivery.objects.filter(
        source="zoho", status=WebhookDelivery.Status.FAILED, attempts__gte=2,
        updated_at__gte=now - timedelta(hours=settings.ALERT_FAILED_WEBHOOKS_WINDOW_HOURS)).count()
    if failed:
        firing.append(Alert("ZohoWebhookRetriesFailing", f"{failed} Zoho deliveries still failing after retries",
                            failed))
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
                                                            "value": alert.value}, integration="check_alerts")
    return firing
