"""Thin Celery tasks: take ids, call one service."""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init
from django.db import InterfaceError, OperationalError

from assistants.classifier import intent_model
from assistants.indexing import approved_replies_forget, approved_reply_index
from assistants.language import language_models_load
from assistants.services import draft_error_is_transient, draft_generate
from assistants.vectorstore import VectorStoreError
from conversations.services.drafts import message_draft_failed
from omnichannel.task_names import TaskName
from omnichannel.task_policy import RetryingTask


@worker_init.connect
def _language_models_load(**_kwargs):
    # In the worker's main process, before the pool forks: its processes share the models (about 320 MB)
    # instead of each loading them during its first draft (about 2 s, far longer on a loaded machine), and
    # the intent classifier is trained once (scikit-learn's import and the fit: seconds that a pool
    # process's first draft spent inside its soft time limit).
    language_models_load()
    intent_model()


class DraftingTask(RetryingTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """Failed for good (Celery calls this after the last retry, not before one): the message counts it,
        and the ensure_drafts sweep stops re-requesting it after DRAFT_GIVE_UP_AFTER such failures."""
        message_id = args[0] if args else kwargs.get("message_id")
        if message_id is not None:
            message_draft_failed(message_id=message_id)
        super().on_failure(exc, task_id, args, kwargs, einfo)


@shared_task(base=DraftingTask, bind=True, name=TaskName.GENERATE_DRAFT,
             autoretry_for=(OperationalError, InterfaceError, VectorStoreError, SoftTimeLimitExceeded),
             error_is_transient=staticmethod(draft_error_is_transient))
def generate_draft(self, message_id: int, refresh: bool = False, force: bool = False, redraft_of: int | None = None,
                   agent_user_id: int | None = None) -> int | None:
    """The draft's id, or None when the message got none (already drafted, decided, answered...).

    `force` is the old name of `refresh`, kept for the tasks still queued when this was deployed.
    A failure is recorded by draft_generate (a failed model run, a draft.failed audit row); a transient
    one is retried by the task policy (omnichannel/task_policy.py), a Postgres failover or a Chroma
    restart ridden out in a few minutes; a soft time limit (a slow machine) is retried once, safe because a
    message gets at most one automatic draft (checked under the conversation lock); what still fails is
    re-requested by the ensure_drafts sweep."""
    # Early attempts wait for an unreachable Chroma; the last one drafts without retrieval instead.
    outcome = draft_generate(message_id=message_id, refresh=refresh or force, wait_for_retrieval=not self.last_try,
                             redraft_of=redraft_of, agent_user_id=agent_user_id)
    return outcome.draft.pk if outcome and outcome.draft else None


@shared_task(name=TaskName.INDEX_APPROVED_REPLY, acks_late=True)
def index_approved_reply(approval_id: int) -> bool:
    return approved_reply_index(approval_id=approval_id)


@shared_task(name=TaskName.FORGET_APPROVED_REPLIES, acks_late=True)
def forget_approved_replies(approval_ids: list[int], compact: bool = True) -> int:
    """Erasure and retention: these approvals' replies leave the index; `compact` rewrites the
    collection so that nothing of them stays in Chroma's files (assistants/vectorstore.py)."""
    return approved_replies_forget(approval_ids=approval_ids, compact=compact)
