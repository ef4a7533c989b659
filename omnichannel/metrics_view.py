"""/metrics for Prometheus: not public (an IP allow-list, or basic auth from the environment).

With several gunicorn or Celery processes, PROMETHEUS_MULTIPROC_DIR makes prometheus_client
write per-process files; the view then aggregates them with a MultiProcessCollector built per
scrape. Without it, the process's own registry is served (one process: runserver, tests).
"""

from __future__ import annotations

import base64
import hmac
import os

from django.conf import settings
from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from omnichannel.metrics import drafts_pending


def _allowed(request) -> bool:
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


def metrics(request):
    if not _allowed(request):
        response = HttpResponse("metrics are not public\n", status=401 if settings.METRICS_BASIC_AUTH else 403)
        if settings.METRICS_BASIC_AUTH:
            response["WWW-Authenticate"] = 'Basic realm="metrics"'
        return response
    from conversations.models import Draft

    drafts_pending.set(Draft.objects.filter(status=Draft.Status.PENDING).count())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
