"""Thin Celery tasks: take ids, call one service."""

from __future__ import annotations

from celery import shared_task

from assistants.indexing import approved_reply_index
from assistants.services import draft_generate


@shared_task(name="generate_draft", acks_late=True)
def generate_draft(message_id: int, force: bool = False) -> int | None:
    outcome = draft_generate(message_id=message_id, force=force)
    return outcome.draft.pk if outcome and outcome.draft else None


@shared_task(name="index_approved_reply", acks_late=True)
def index_approved_reply(approval_id: int) -> bool:
    return approved_reply_index(approval_id=approval_id)
