"""Thin Celery tasks of the conversations app."""

from __future__ import annotations

from celery import shared_task

from conversations.services.drafts import messages_awaiting_draft
from conversations.services.retention import conversations_archive_due
from conversations.services.threads import conversations_auto_close
from omnichannel.jobs import enqueue
from omnichannel.task_names import TaskName


@shared_task(name=TaskName.ENSURE_DRAFTS, acks_late=True)
def ensure_drafts() -> int:
    """Every inbound email gets a draft, even when its generate_draft task was lost: re-request them."""
    missing = messages_awaiting_draft()
    for message_id in missing:
        enqueue(TaskName.GENERATE_DRAFT, message_id)
    return len(missing)


@shared_task(name=TaskName.AUTO_CLOSE_CONVERSATIONS, acks_late=True)
def auto_close_conversations() -> int:
    """Beat, hourly: close conversations waiting on the customer for AUTO_CLOSE_DAYS."""
    return len(conversations_auto_close())


@shared_task(name=TaskName.ARCHIVE_CONVERSATIONS, acks_late=True)
def archive_conversations() -> int:
    return conversations_archive_due()
