"""/metrics for Prometheus: not public (an IP allow-list, or basic auth from the environment).

With several gunicorn or Celery processes, PROMETHEUS_MULTIPROC_DIR makes prometheus_client
write per-process files; the view then aggregates them with a MultiProcessCollector built per
scrape. Without it, the process's own registry is served (one process: runserver, tests).
Metrics that describe the database's state (drafts_pending, drafts_send_failed,
shopify_cursor_lag_seconds, webhook_intake_oldest_waiting_seconds) are read from it per scrape, by
DatabaseStateCollector; the apps that own those tables register their reads (`database_gauges_register`).
"""

from __future__ import annotations

import base64
import hmac
import logging
import os
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Min, Q
from django.http import HttpResponse
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily

from omnichannel.models import WebhookDelivery
from omnichannel.webhook_deliveries import webhook_delivery_lease_expired

logger = logging.getLogger(__name__)


def allowed_to_scrape(request) -> bool:
    """The caller may read /metrics (and /readyz's details): basic auth when set, else the IP allow-list."""
    if settings.METRICS_BASIC_AUTH:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                given = base64.b64decode(header[6:]).decode()
            except ValueError:
                return False
            return hmac.compare_digest(given, settings.METRICS_BASIC_AUTH)
        return False
    return request.META.get("REMOTE_ADDR", "") in settings.METRICS_ALLOWED_IPS


# Metrics that describe the database's state, read per scrape: apps register theirs from AppConfig.ready
# (omnichannel imports no app): a function of the scrape's time returning metric families.
DatabaseGauges = Callable[[datetime], list[GaugeMetricFamily]]
_DATABASE_GAUGES: dict[str, DatabaseGauges] = {}


def database_gauges_register(name: str, read: DatabaseGauges) -> None:
    _DATABASE_GAUGES[name] = read


def _intake_backlog(now: datetime) -> list[GaugeMetricFamily]:
    # Stored but no live worker on it: not yet taken (the drain, then the processing task), or
    # `processing` by a worker whose lease expired (killed). The index on (status, received_at) answers it.
    waiting = (WebhookDelivery.objects.filter(
        Q(status__in=[WebhookDelivery.Status.RECEIVED, WebhookDelivery.Status.QUEUED])
        | webhook_delivery_lease_expired(now=now), is_erased=False)
        .values("source").annotate(oldest=Min("received_at")).order_by("source").values_list("source", "oldest"))
    backlog = GaugeMetricFamily("webhook_intake_oldest_waiting_seconds",
                                "Age of the oldest stored webhook delivery no live worker is on, per source",
                                labels=["source"])
    for source, oldest in waiting:
        backlog.add_metric([source], max(0.0, (now - oldest).total_seconds()))
    return [backlog]


class DatabaseStateCollector:
    """webhook_intake_oldest_waiting_seconds{source} and the apps' registered gauges (drafts_pending,
    drafts_send_failed, shopify_cursor_lag_seconds{resource}), as the database has them now.

    A gauge set when a delta arrives stays at its last value while nothing arrives, which is
    exactly when the stale-cursor alert must fire; a count kept per process is wrong as soon as
    another process changes a draft. Four small queries per scrape (two on the drafts.status index,
    a handful of cursor rows, the webhook status index).
    """

    def collect(self):
        now = timezone.now()
        try:
            families = _intake_backlog(now)
            for read in _DATABASE_GAUGES.values():
                families += read(now)
        except DatabaseError:
            # No value rather than a wrong one: Prometheus sees the series absent and /readyz says why.
            logger.warning("metrics: database unavailable, the database-state gauges left out", exc_info=True)
            return
        yield from families


def _registry(*, database_state: bool = True) -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        source = CollectorRegistry()
        multiprocess.MultiProcessCollector(source)
    else:
        source = REGISTRY
    registry.register(source)
    if database_state:
        registry.register(DatabaseStateCollector())
    return registry


def worker_metrics_serve(*, port: int, addr: str):
    """A Celery worker's own scrape endpoint (its processes' counters; the database state is the web's).

    The worker writes into a multiprocess directory of its own (omnichannel/worker_setup.py: a fresh
    one inside PROMETHEUS_MULTIPROC_DIR, or a temporary one), so this serves its pool processes'
    counters and nobody else's: scraping the web and every worker counts each event once, on one
    host as in containers (where two replicas sharing a directory would also write the same
    `counter_<pid>.db` files, having separate pid namespaces).
    prometheus_client's server has no auth: bind it to an address only Prometheus reaches.
    """
    # The registry is built once; MultiProcessCollector reads the files again at every scrape.
    return start_http_server(port, addr=addr, registry=_registry(database_state=False))


def metrics(request):
    if not allowed_to_scrape(request):
        response = HttpResponse("metrics are not public\n", status=401 if settings.METRICS_BASIC_AUTH else 403)
        if settings.METRICS_BASIC_AUTH:
            response["WWW-Authenticate"] = 'Basic realm="metrics"'
        return response
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
