"""Thin Celery tasks: take ids, call one service."""

from __future__ import annotations

import random

from celery import shared_task

from assistants.indexing import approved_replies_forget, approved_reply_index
from assistants.services import draft_error_is_transient, draft_generate
from omnichannel.task_names import TaskName

DRAFT_MAX_RETRIES = 4


def draft_retry_countdown(retries: int) -> float:
    """Exponential backoff with jitter: about 10, 20, 40, 80 s, so a Postgres failover or a Chroma
    restart is ridden out in a couple of minutes; later, the ensure_drafts sweep (every 10 min)."""
    return min(300.0, 10.0 * 2 ** retries) * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not crypto


@shared_task(bind=True, name=TaskName.GENERATE_DRAFT, acks_late=True, max_retries=DRAFT_MAX_RETRIES)
def generate_draft(self, message_id: int, refresh: bool = False, force: bool = False, redraft_of: int | None = None,
                   agent_user_id: int | None = None) -> int | None:
    """The draft's id, or None when the message got none (already drafted, decided, answered...).

    `force` is the old name of `refresh`, kept for the tasks still queued when this was deployed."""
    # Early attempts wait for an unreachable Chroma; the last one drafts without retrieval instead.
    last_try = self.request.retries >= self.max_retries
    try:
        outcome = draft_generate(message_id=message_id, refresh=refresh or force, wait_for_retrieval=not last_try,
                                 redraft_of=redraft_of, agent_user_id=agent_user_id)
    except Exception as exc:
        # draft_generate has recorded a failed model run and a draft.failed audit row already.
        if draft_error_is_transient(exc) and not last_try:
            raise self.retry(exc=exc, countdown=draft_retry_countdown(self.request.retries)) from exc
        raise  # permanent: the task fails (counted in celery_task_failures_total); ensure_drafts re-requests
    return outcome.draft.pk if outcome and outcome.draft else None


@shared_task(name=TaskName.INDEX_APPROVED_REPLY, acks_late=True)
def index_approved_reply(approval_id: int) -> bool:
    return approved_reply_index(approval_id=approval_id)


@shared_task(name=TaskName.FORGET_APPROVED_REPLIES, acks_late=True)
def forget_approved_replies(approval_ids: list[int], compact: bool = True) -> int:
    """Erasure and retention: these approvals' replies leave the index; `compact` rewrites the
    collection so that nothing of them stays in Chroma's files (assistants/vectorstore.py)."""
    return approved_replies_forget(approval_ids=approval_ids, compact=compact)
