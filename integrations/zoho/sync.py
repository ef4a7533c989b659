"""Polling a Zoho folder from its checkpoint: the fallback for webhooks Zoho did not deliver.

Each polled message is kept raw in `webhook_deliveries` (topic `poll`, keyed by the Zoho
message id, so a message seen by webhook and by poll is one delivery) and processed like a
webhook. The checkpoint advances after every message, so a crash resumes where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from django.utils import timezone

from integrations.models import ZohoSyncState
from integrations.zoho.client import ZohoClient, ZohoMessage
from integrations.zoho.tasks import process_incoming_email
from omnichannel.services import webhook_delivery_store


def zoho_sync_folder(*, client: ZohoClient, folder: str, since: datetime | None = None,
                     progress: Callable[[ZohoMessage], None] | None = None) -> dict[str, int]:
    folder_id = client.folder_id_for(folder)
    state, _ = ZohoSyncState.objects.get_or_create(folder_id=folder_id, defaults={"folder_name": folder})
    checkpoint = since or state.last_received_at
    counts = {"seen": 0, "new": 0, "existing": 0, "failed": 0}
    for message in client.messages_iter(folder_id=folder_id):
        received = datetime.fromtimestamp(message.received_time_ms / 1000, tz=UTC)
        if checkpoint and received <= checkpoint:
            continue
        counts["seen"] += 1
        delivery, created = webhook_delivery_store(source="zoho", topic="poll", external_id=message.message_id,
                                                   headers={"x-omnichannel-poll": folder_id},
                                                   body=json.dumps(message.raw).encode())
        outcome = process_incoming_email(delivery.pk, client=client) if created else "existing"
        counts["new" if outcome.startswith("message") else "failed" if outcome in {"invalid", "failed"} else "existing"] += 1
        ZohoSyncState.objects.filter(pk=state.pk).update(last_received_at=received, last_message_id=message.message_id)
        if progress:
            progress(message)
    ZohoSyncState.objects.filter(pk=state.pk).update(last_run_at=timezone.now())
    return counts
