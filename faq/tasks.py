"""Thin Celery tasks of the faq app."""

from __future__ import annotations

from celery import shared_task

from faq.services import correction_affected_messages
from faq.services_proposals import faq_proposals_refresh
from omnichannel.jobs import enqueue
from omnichannel.task_names import TaskName


@shared_task(name=TaskName.APPLY_CORRECTIONS, acks_late=True)
def apply_corrections(correction_id: int) -> int:
    """Re-draft the pending drafts whose inbound message a new or changed correction matches
    (a refresh: a draft an agent decided meanwhile is left alone)."""
    message_ids = correction_affected_messages(correction_id=correction_id)
    for message_id in message_ids:
        enqueue(TaskName.GENERATE_DRAFT, message_id, refresh=True)
    return len(message_ids)


@shared_task(name=TaskName.PROPOSE_FAQ, acks_late=True)
def propose_faq(limit: int | None = None) -> int:
    """Weekly: place the replies sent since the last run into FAQ proposals; the number of new proposals.
    (`limit` is ignored: the argument of the FAQ-entry proposals this task made before proposals existed.)"""
    return len(faq_proposals_refresh().created)
