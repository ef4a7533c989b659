"""What the integrations app adds to the alerts and the metrics (registered in apps.py: omnichannel,
which evaluates them, imports no app): how long each Shopify resource has had no delta."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from prometheus_client.core import GaugeMetricFamily

from integrations.models import ShopifyCursor
from omnichannel.alerts import Alert


def shopify_cursor_alerts(now: datetime) -> list[Alert]:
    stale_before = now - timedelta(minutes=settings.ALERT_CURSOR_STALE_MINUTES)
    firing = []
    for cursor in ShopifyCursor.objects.exclude(last_delta_at__isnull=True).filter(last_delta_at__lt=stale_before):
        minutes = (now - cursor.last_delta_at).total_seconds() / 60
        firing.append(
            Alert("ShopifyCursorStale", f"Shopify {cursor.resource}: no delta for {minutes:.0f} minutes", round(minutes, 1))
        )
    return firing


def shopify_cursor_gauges(now: datetime) -> list[GaugeMetricFamily]:
    """shopify_cursor_lag_seconds{resource}: a gauge set when a delta arrives would stay at its last value
    while nothing arrives, which is exactly when the stale-cursor alert must fire; read per scrape instead."""
    lag = GaugeMetricFamily(
        "shopify_cursor_lag_seconds", "Seconds since the last delta per Shopify resource", labels=["resource"]
    )
    for resource, last_delta_at in (
        ShopifyCursor.objects.exclude(last_delta_at__isnull=True)
        .order_by("resource")
        .values_list("resource", "last_delta_at")
    ):
        lag.add_metric([resource], max(0.0, (now - last_delta_at).total_seconds()))
    return [lag]
