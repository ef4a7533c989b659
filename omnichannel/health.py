"""/healthz (the process answers) and /readyz (its database, cache and Chroma answer).

/readyz is public (a load balancer probes it), so a stranger learns only which check passed: an
error such as "connection to 10.0.3.7:5432 refused" names internal hosts and ports. The details go
to the log, and to the callers /metrics trusts (METRICS_ALLOWED_IPS or its basic auth) and staff.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from omnichannel.metrics_view import allowed_to_scrape

logger = logging.getLogger(__name__)


@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _check_cache() -> str:
    key = "readyz:probe"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return the probe value")
    return "redis" if settings.REDIS_URL else "local-memory"


CHECKS = {"database": _check_database, "cache": _check_cache}


def register_check(name: str, check) -> None:
    """Apps that own a dependency (assistants owns Chroma) register its probe in ready()."""
    CHECKS[name] = check


@require_GET
def readyz(request):
    results: dict[str, dict] = {}
    ready = True
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            detail = check()
            results[name] = {"ok": True, "detail": detail}
        except Exception as exc:  # noqa: BLE001 - any failure of a dependency means "not ready"
            ready = False
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
            logger.warning("readyz: %s check failed: %s", name, results[name]["error"])
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    status = "ready" if ready else "not ready"
    if not _may_see_details(request):
        return JsonResponse({"status": status, "checks": {name: {"ok": r["ok"]} for name, r in results.items()}},
                            status=200 if ready else 503)
    results["embedding_backend"] = settings.EMBEDDING_BACKEND
    return JsonResponse({"status": status, "checks": results}, status=200 if ready else 503)


def _may_see_details(request) -> bool:
    if allowed_to_scrape(request):
        return True
    try:
        return bool(request.user.is_authenticated and request.user.is_staff)
    except DatabaseError:  # the session is read from the database, which may be the check that failed
        return False
