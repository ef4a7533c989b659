"""Polling a Zoho folder from its checkpoint: the fallback for webhooks Zoho did not deliver.

Zoho allows about 30 requests a minute, so a run lists newest first and stops at the first page
that reaches the checkpoint: with nothing new that is one list request, not the whole folder.
The new messages are then stored oldest first and the checkpoint (their receivedTime) advances
after each one, so a crash resumes from the last stored message and never skips one.

Each polled message is kept raw in `webhook_deliveries` (topic `poll`, keyed by the Zoho message
id, so a message seen by webhook and by poll is one delivery) and processed like a webhook. A
delivery already held but not processed (a webhook whose processing failed, a run that crashed
between storing and processing) is processed again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from django.db.models import Q
from django.utils import timezone

from integrations.models import ZohoSyncState
from integrations.zoho.client import ZohoClient, ZohoMessage
from integrations.zoho.ingest import process_incoming_email
from omnichannel.models import WebhookDelivery
from omnichannel.webhook_deliveries import webhook_delivery_store


def _received_at(message: ZohoMessage) -> datetime | None:
    return datetime.fromtimestamp(message.received_time_ms / 1000, tz=UTC) if message.received_time_ms else None


def zoho_messages_since(*, client: ZohoClient, folder_id: str, checkpoint: datetime | None) -> list[ZohoMessage]:
    """The folder's messages received at or after `checkpoint`, oldest first. Messages received at
    exactly the checkpoint are kept (another one may share the stored one's millisecond); they are
    deduplicated on store. Paging stops at the first message older than the checkpoint."""
    newer = []
    for message in client.messages_iter(folder_id=folder_id):
        received = _received_at(message)
        # No receivedTime says nothing about where we are: keep it rather than stop early.
        if checkpoint and received is not None and received < checkpoint:
            break
        newer.append(message)
    newer.reverse()
    return newer


def _process(message: ZohoMessage, *, client: ZohoClient, folder_id: str) -> str:
    delivery, created = webhook_delivery_store(source="zoho", topic="poll", external_id=message.message_id,
                                               headers={"x-omnichannel-poll": folder_id},
                                               body=json.dumps(message.raw).encode())
    if not created and delivery.status == WebhookDelivery.Status.PROCESSED:
        return "existing"
    # replay=True: a failed delivery is claimed again; a processed one cannot be (see the claim).
    return process_incoming_email(delivery.pk, client=client, replay=not created)


def zoho_sync_folder(*, client: ZohoClient, folder: str, since: datetime | None = None,
                     progress: Callable[[ZohoMessage], None] | None = None,
                     on_total: Callable[[int], None] | None = None) -> dict[str, int]:
    folder_id = client.folder_id_for(folder)
    state, _ = ZohoSyncState.objects.get_or_create(folder_id=folder_id, defaults={"folder_name": folder})
    messages = zoho_messages_since(client=client, folder_id=folder_id, checkpoint=since or state.last_received_at)
    if on_total:
        on_total(len(messages))
    counts = {"seen": len(messages), "new": 0, "existing": 0, "failed": 0}
    for message in messages:
        # A transient Zoho or database error propagates: the checkpoint stays before this message.
        outcome = _process(message, client=client, folder_id=folder_id)
        counts["new" if outcome.endswith("created") else "failed" if outcome in {"invalid", "failed"}
               else "existing"] += 1
        if (received := _received_at(message)) is not None:
            # Never backwards: a --since before the checkpoint re-reads old mail without re-opening the window.
            ZohoSyncState.objects.filter(Q(pk=state.pk) & (Q(last_received_at__isnull=True)
                                                           | Q(last_received_at__lt=received))).update(
                last_received_at=received, last_message_id=message.message_id)
        if progress:
            progress(message)
    ZohoSyncState.objects.filter(pk=state.pk).update(last_run_at=timezone.now())
    return counts
