"""Celery tasks of this provider (names are contracts: see ARCHITECTURE.md)."""

from __future__ import annotations

import logging

import requests
from celery import shared_task

from integrations.zoho.client import ZohoClient, ZohoError
from integrations.zoho.ingest import zoho_message_ingest, zoho_payload_parse
from omnichannel.errors import InvalidPayload
from omnichannel.models import WebhookDelivery
from omnichannel.services import webhook_delivery_claim, webhook_delivery_finish

logger = logging.getLogger(__name__)


def process_incoming_email(delivery_id: int, *, client: ZohoClient | None = None, replay: bool = False) -> str:
    """Ingest one stored Zoho delivery. Claimed with a conditional update, so two workers never
    process the same delivery; a bad payload is recorded on the delivery and not retried.
    Transient provider errors propagate after being recorded, for the caller to retry."""
    if not webhook_delivery_claim(delivery_id=delivery_id, retry_failed=replay):
        return "skipped"
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    try:
        message, created = zoho_message_ingest(zoho_payload_parse(delivery.body),
                                               client=client or ZohoClient.from_settings())
    except InvalidPayload as exc:
        webhook_delivery_finish(delivery_id=delivery_id, status=WebhookDelivery.Status.FAILED, error=exc.message)
        return "invalid"
    except (ZohoError, requests.RequestException) as exc:
        webhook_delivery_finish(delivery_id=delivery_id, status=WebhookDelivery.Status.FAILED,
                                error=f"{type(exc).__name__}: {exc}")
        if isinstance(exc, ZohoError) and exc.permanent:
            return "failed"
        raise
    webhook_delivery_finish(delivery_id=delivery_id, status=WebhookDelivery.Status.PROCESSED)
    return f"message {message.pk} {'created' if created else 'existing'}"


@shared_task(bind=True, name="process_incoming_email_task", acks_late=True, max_retries=5)
def process_incoming_email_task(self, delivery_id: int, replay: bool = False) -> str:
    try:
        return process_incoming_email(delivery_id, replay=replay or self.request.retries > 0)
    except (ZohoError, requests.RequestException) as exc:
        if self.request.is_eager:
            return "failed"  # inline mode: the delivery stays failed for replay_webhooks / zoho_sync
        raise self.retry(countdown=min(600, 30 * 2 ** self.request.retries)) from exc


@shared_task(name="zoho_sync", acks_late=True)
def zoho_sync(folder: str = "") -> dict:
    from django.conf import settings

    from integrations.zoho.sync import zoho_sync_folder

    return zoho_sync_folder(client=ZohoClient.from_settings(), folder=folder or settings.ZOHO_INBOX_FOLDER_ID)
