"""conversation_oldest_customer_wait_seconds: how long the customer who has waited longest has waited.

The age of the oldest customer email with no reply sent yet (`Conversation.waiting_since` of open
conversations, kept by conversations/services/threads.py), whether a draft is pending for it or not.
A state of the database, read at every scrape like drafts_pending (omnichannel/metrics_view.py): a
gauge set by one process would stop growing exactly while nobody answers. One indexed query
(conversation_waiting_idx on status, waiting_since). Absent when the database cannot answer; 0 when
nobody is waiting.
"""

from __future__ import annotations

from django.db.models import Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from conversations.models import Conversation

OLDEST_WAIT = "conversation_oldest_customer_wait_seconds"


def oldest_customer_wait_seconds(*, now=None) -> float:
    """Seconds since the oldest unanswered customer email of an open conversation (0 when none)."""
    now = now or timezone.now()
    oldest = Conversation.objects.filter(status=Conversation.Status.OPEN, waiting_since__isnull=False).aggregate(
        oldest=Min("waiting_since")
    )["oldest"]
    return max(0.0, (now - oldest).total_seconds()) if oldest else 0.0


def oldest_customer_wait_gauges(now) -> list[GaugeMetricFamily]:
    """The gauge /metrics serves with the other database-state gauges (registered in apps.py: omnichannel,
    which serves them, imports no app; a database that cannot answer leaves them all out)."""
    gauge = GaugeMetricFamily(
        OLDEST_WAIT, "Age of the oldest customer email no reply has been sent to (open conversations), seconds"
    )
    gauge.add_metric([], oldest_customer_wait_seconds(now=now))
    return [gauge]
