"""What the conversations app adds to the alerts and the metrics (registered in apps.py: omnichannel,
which evaluates them, imports no app): drafts waiting for review and replies that failed to send."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from prometheus_client.core import GaugeMetricFamily

from conversations.models import Draft
from conversations.services.sending import drafts_failing_to_send, drafts_send_failed_for_good
from omnichannel.alerts import Alert


def drafts_alerts(now: datetime) -> list[Alert]:
    firing = []
    window = now - timedelta(hours=settings.ALERT_FAILED_WEBHOOKS_WINDOW_HOURS)
    unsent = drafts_send_failed_for_good().filter(updated_at__gte=window).count()
    if unsent:
        firing.append(
            Alert(
                "ReplySendFailed",
                f"{unsent} approved replies failed to send for good (refused, "
                "interrupted or out of tries): see the failed sends on the agents' home",
                unsent,
            )
        )
    pending = Draft.objects.filter(status=Draft.Status.PENDING).count()
    if pending > settings.ALERT_PENDING_DRAFTS_MAX:
        firing.append(
            Alert(
                "TooManyPendingDrafts",
                f"{pending} drafts wait for review (limit {settings.ALERT_PENDING_DRAFTS_MAX})",
                pending,
            )
        )
    return firing


def drafts_gauges(now: datetime) -> list[GaugeMetricFamily]:
    """drafts_pending and drafts_send_failed, two counts on the drafts.status index."""
    drafts = GaugeMetricFamily("drafts_pending", "Drafts waiting for an agent")
    drafts.add_metric([], Draft.objects.filter(status=Draft.Status.PENDING).count())
    failing = GaugeMetricFamily(
        "drafts_send_failed", "Approved replies not sent whose last send failed (retrying, interrupted or for good)"
    )
    failing.add_metric([], drafts_failing_to_send().count())
    return [drafts, failing]
