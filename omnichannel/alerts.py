"""The alerts, evaluated from the database (for setups without Prometheus).

The seed's three (a stale Shopify cursor, failing webhook deliveries, too many pending drafts)
and a reply that failed to send for good. The same conditions are Prometheus rules in
deploy/prometheus/alerts.yml; this is the fallback that `check_alerts` (task every 5 minutes,
and command) runs.

omnichannel imports no app of ours (pyproject.toml's import-linter contracts): it evaluates its own
table's condition (failing webhook deliveries), and each app registers its conditions from its
AppConfig.ready with `alert_check_register` (conversations: drafts; integrations: Shopify cursors).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from omnichannel.audit import audit_log_write
from omnichannel.models import WebhookDelivery
from omnichannel.task_names import TaskName

logger = logging.getLogger("omnichannel.alerts")


@dataclass(frozen=True)
class Alert:
    name: str
    summary: str
    value: float


AlertCheck = Callable[[datetime], list[Alert]]
_CHECKS: dict[str, AlertCheck] = {}


def alert_check_register(name: str, check: AlertCheck) -> None:
    """An app's alert conditions, evaluated with the others by `alerts_evaluate` (once per name)."""
    _CHECKS[name] = check


def _webhook_deliveries_failing(now: datetime) -> list[Alert]:
    window = now - timedelta(hours=settings.ALERT_FAILED_WEBHOOKS_WINDOW_HOURS)
    # Every source: a Shopify delivery that failed is an order or a customer we do not hold right. Only
    # deliveries whose processing was tried (attempts >= 1): a body refused at the door was answered 400,
    # so its sender already knows. Failed and still failed: a retry that succeeded made it processed.
    failed = (WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED, attempts__gte=1, updated_at__gte=window)
              .values("source").annotate(count=Count("pk")).order_by("source").values_list("source", "count"))
    return [Alert("WebhookDeliveriesFailing", f"{count} {source} deliveries failed processing; replay with manage.py "
                  f"replay_webhooks --source {source} --failed once the cause is fixed", count)
            for source, count in failed]


def alerts_evaluate() -> list[Alert]:
    now = timezone.now()
    firing = _webhook_deliveries_failing(now)
    for check in _CHECKS.values():
        firing += check(now)
    return firing


def alerts_check() -> list[Alert]:
    firing = alerts_evaluate()
    for alert in firing:
        logger.warning("alert firing: %s", alert.summary, extra={"alert": alert.name, "value": alert.value})
        audit_log_write(event_type="alert.firing", payload={"alert": alert.name, "summary": alert.summary,
                                                            "value": alert.value}, integration=TaskName.CHECK_ALERTS)
    return firing
