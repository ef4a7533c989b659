"""The raw inbox: store every webhook or poll payload before processing it."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from omnichannel import correlation
from omnichannel.metrics import webhook_deliveries_total
from omnichannel.models import WebhookDelivery


def webhook_delivery_store(
    *, source: str, topic: str, external_id: str, headers: dict, body: bytes
) -> tuple[WebhookDelivery, bool]:
    """Store a delivery once per (source, external_id). Returns (delivery, created)."""
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                source=source,
                topic=topic[:100],
                external_id=external_id[:200],
                headers=headers,
                body=bytes(body),
                correlation_id=correlation.ensure(),
            )
        return delivery, True
    except IntegrityError:
        # A redelivery of something we already hold: harmless, nothing to do.
        return WebhookDelivery.objects.get(source=source, external_id=external_id[:200]), False


def webhook_delivery_claim(*, delivery_id: int, retry_failed: bool = False) -> bool:
    """Move a delivery to `processing`; False when another worker got there first or it is done.

    A conditional UPDATE that must touch exactly one row: the claim is atomic without locks.
    """
    allowed = [WebhookDelivery.Status.RECEIVED, WebhookDelivery.Status.PROCESSING]
    if retry_failed:
        allowed.append(WebhookDelivery.Status.FAILED)
    claimed = WebhookDelivery.objects.filter(Q(pk=delivery_id) & Q(status__in=allowed)).update(
        status=WebhookDelivery.Status.PROCESSING, attempts=F("attempts") + 1, updated_at=timezone.now()
    )
    return claimed == 1


def webhook_delivery_finish(*, delivery_id: int, status: str, error: str = "") -> None:
    if status in (WebhookDelivery.Status.FAILED, WebhookDelivery.Status.PROCESSED):
        source = WebhookDelivery.objects.filter(pk=delivery_id).values_list("source", flat=True).first() or "unknown"
        webhook_deliveries_total.labels(source=source, status=status).inc()
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        status=status,
        last_error=error[:5000],
        processed_at=timezone.now(),
        updated_at=timezone.now(),
    )
