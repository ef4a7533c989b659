"""Celery tasks of this provider (names are contracts: see ARCHITECTURE.md)."""

from __future__ import annotations

import logging

import requests
from celery import shared_task

from integrations.webhooks_common import TRANSIENT_DB_ERRORS, delivery_failed
from integrations.zoho.client import ZohoClient, ZohoError
from integrations.zoho.ingest import zoho_message_ingest, zoho_payload_parse
from omnichannel import correlation
from omnichannel.errors import InvalidPayload
from omnichannel.models import WebhookDelivery
from omnichannel.services import (
    webhook_delivery_claim,
    webhook_delivery_erase,
    webhook_delivery_finish,
    webhook_delivery_lease_kept,
)
from omnichannel.single_flight import single_flight
from omnichannel.task_names import TaskName
from omnichannel.task_policy import RetryingTask

logger = logging.getLogger(__name__)


def process_incoming_email(delivery_id: int, *, client: ZohoClient | None = None, replay: bool = False) -> str:
    """Ingest one stored Zoho delivery. Claimed with a conditional update under a lease that a
    heartbeat keeps alive while this runs, so two workers never process the same delivery (a
    killed worker's lease runs out and the stalled-delivery sweep hands it on). Whatever goes
    wrong is recorded on the delivery (failed, with the reason) so it can be replayed; transient
    provider and database errors then propagate, for the caller to retry, and nothing else does:
    an unexpected error must not leave it `processing`."""
    if not webhook_delivery_claim(delivery_id=delivery_id, retry_failed=replay):
        return "skipped"
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    # Under the id of the request that brought it (kept on the row at intake), whoever queued it: its
    # messages, drafts and audit rows are found by that request's X-Correlation-ID.
    with (correlation.use(delivery.correlation_id or correlation.ensure()),
          webhook_delivery_lease_kept(delivery=delivery)):
        return _ingest_claimed(delivery, client=client)


def _ingest_claimed(delivery: WebhookDelivery, *, client: ZohoClient | None) -> str:
    delivery_id = delivery.pk
    try:
        message, created = zoho_message_ingest(zoho_payload_parse(delivery.body),
                                               client=client or ZohoClient.from_settings())
    except InvalidPayload as exc:
        delivery_failed(delivery_id=delivery_id, exc=exc)
        return "invalid"
    except (ZohoError, requests.RequestException, *TRANSIENT_DB_ERRORS) as exc:
        delivery_failed(delivery_id=delivery_id, exc=exc)
        if isinstance(exc, ZohoError) and exc.permanent:
            return "failed"
        raise
    except Exception as exc:  # noqa: BLE001 - a value the database refuses, or a bug: kept for replay, not retried
        logger.exception("zoho delivery %s failed unexpectedly", delivery_id)
        delivery_failed(delivery_id=delivery_id, exc=exc)
        return "failed"
    webhook_delivery_finish(delivery_id=delivery_id, status=WebhookDelivery.Status.PROCESSED)
    if message is None or message.is_erased:
        # About an erased customer (sent before the erasure), or a redelivery of an erased or archived
        # message: the raw bytes would hold what the erasure or the archive took away.
        webhook_delivery_erase(delivery_id=delivery_id, reason="erased customer" if message is None
                               else "erased message")
        return "erased"
    return f"message {message.pk} {'created' if created else 'existing'}"


@shared_task(base=RetryingTask, bind=True, name=TaskName.PROCESS_INCOMING_EMAIL,
             autoretry_for=(ZohoError, requests.RequestException, *TRANSIENT_DB_ERRORS))
def process_incoming_email_task(self, delivery_id: int, replay: bool = False) -> str:
    # Transient errors propagate (the delivery already recorded as failed) and are retried by the task
    # policy (omnichannel/task_policy.py); a retry may claim the failed delivery again.
    return process_incoming_email(delivery_id, replay=replay or self.request.retries > 0)


@shared_task(name=TaskName.ZOHO_SYNC, acks_late=True)
def zoho_sync(folder: str = "") -> dict:
    from django.conf import settings

    from integrations.zoho.sync import zoho_sync_folder

    # Two overlapping runs (every 300 s, up to 1,800 s each) would double the calls against Zoho's limit.
    with single_flight(TaskName.ZOHO_SYNC) as mine:
        if not mine:
            return {"skipped": "another zoho_sync is running"}
        return zoho_sync_folder(client=ZohoClient.from_settings(), folder=folder or settings.ZOHO_INBOX_FOLDER_ID)
