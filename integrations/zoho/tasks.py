"""Celery tasks of this provider (names are contracts: see ARCHITECTURE.md)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from integrations.zoho.client import ZohoClient
from integrations.zoho.ingest import ZOHO_DELIVERIES, process_incoming_email
from integrations.zoho.sync import zoho_sync_folder
from omnichannel.single_flight import single_flight
from omnichannel.task_names import TaskName
from omnichannel.task_policy import RetryingTask


@shared_task(base=RetryingTask, bind=True, name=TaskName.PROCESS_INCOMING_EMAIL, autoretry_for=ZOHO_DELIVERIES.retried)
def process_incoming_email_task(self, delivery_id: int, replay: bool = False) -> str:
    # Transient errors propagate (the delivery already recorded as failed) and are retried by the task
    # policy (omnichannel/task_policy.py); a retry may claim the failed delivery again.
    return process_incoming_email(delivery_id, replay=replay or self.request.retries > 0)


@shared_task(name=TaskName.ZOHO_SYNC, acks_late=True)
def zoho_sync(folder: str = "") -> dict:
    # Two overlapping runs (every 300 s, up to 1,800 s each) would double the calls against Zoho's limit.
    with single_flight(TaskName.ZOHO_SYNC) as mine:
        if not mine:
            return {"skipped": "another zoho_sync is running"}
        return zoho_sync_folder(client=ZohoClient.from_settings(), folder=folder or settings.ZOHO_INBOX_FOLDER_ID)
