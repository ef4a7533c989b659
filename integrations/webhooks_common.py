"""What every webhook endpoint does the same way: store the raw delivery first, then answer.

2xx only once the raw bytes are durably in `webhook_deliveries`; 503 when the database cannot
take them, so the sender retries instead of believing we have the event.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import JsonResponse

from omnichannel.metrics import webhook_deliveries_total
from omnichannel.models import WebhookDelivery
from omnichannel.services import webhook_delivery_finish, webhook_delivery_store

logger = logging.getLogger(__name__)
_KEPT_HEADERS = ("content-type", "user-agent", "x-hook-signature", "x-request-id")


def kept_headers(request, extra_prefixes: tuple[str, ...] = ()) -> dict:
    """The headers worth keeping with a delivery (never cookies or authorization)."""
    return {k.lower(): v for k, v in request.headers.items()
            if k.lower() in _KEPT_HEADERS or k.lower().startswith(extra_prefixes)}


def body_too_big(request) -> int | None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    return length if length > settings.WEBHOOK_MAX_BODY_BYTES else None


def store_or_503(*, source: str, topic: str, external_id: str, headers: dict, body: bytes,
                 invalid_reason: str = "") -> tuple[WebhookDelivery | None, bool, JsonResponse | None]:
    """Store a delivery; on a database failure return the 503 answer to send instead."""
    try:
        delivery, created = webhook_delivery_store(source=source, topic=topic, external_id=external_id,
                                                   headers=headers, body=body)
        if created and invalid_reason:
            webhook_delivery_finish(delivery_id=delivery.pk, status=WebhookDelivery.Status.FAILED, error=invalid_reason)
    except DatabaseError as exc:
        logger.error("webhook %s could not be stored: %s", source, exc)
        webhook_deliveries_total.labels(source=source, status="unavailable").inc()
        return None, False, JsonResponse({"error": "storage unavailable, retry later"}, status=503)
    webhook_deliveries_total.labels(source=source, status="duplicate" if not created else (
        "invalid" if invalid_reason else "accepted")).inc()
    return delivery, created, None
