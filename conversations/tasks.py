"""Thin Celery tasks of the conversations app, and `send_draft`: approved drafts go out through their
channel's sender (conversations/channels.py); `ensure_sent` re-queues the ones whose task was lost or
ran out of retries."""

from __future__ import annotations

import logging

from celery import shared_task

from conversations.channels import channel_sender
from conversations.services.drafts import messages_awaiting_draft
from conversations.services.retention import conversations_archive_due
from conversations.services.sending import (
    SWEEP_MAX_ATTEMPTS,
    draft_mark_send_failed,
    draft_mark_sent,
    draft_send_claim,
    draft_send_lease_kept,
    draft_send_wait_seconds,
    drafts_send_sweep,
)
from conversations.services.threads import conversations_auto_close
from omnichannel.errors import ApplicationError, ChannelError
from omnichannel.jobs import enqueue
from omnichannel.metrics import sends_failed_total
from omnichannel.task_names import TaskName
from omnichannel.task_policy import RetryingTask, task_run_later


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


MAYBE_SENT_ERROR = ("Zoho gave no clear answer to the reply ({error}), so it may have been sent. Check the thread in "
                    "Zoho Mail, then use Send again if it is not there.")

UNEXPECTED_ERROR = ("Sending stopped on an unexpected error ({error}) while the reply was going to Zoho, so it may "
                    "have been sent. Check the thread in Zoho Mail, then use Send again if it is not there.")
REFUSED_ERROR = ("Zoho refused the reply, so it was not sent ({error}). Check the customer's address and the reply, "
                 "then use Send again, or answer from Zoho Mail.")
OUT_OF_TRIES_ERROR = ("Zoho did not take the reply in {tries} tries ({error}), so it was not sent and is no longer "
                      "tried. Use Send again later, or answer from Zoho Mail.")
NOT_YET_ERROR = "Zoho could not take the reply yet ({error}); it was not sent and will be tried again."
NOT_RECORDED_ERROR = ("Zoho accepted the reply (message {external_id}), so it has been sent, but recording it failed "
                      "({error}). Check the thread in Zoho Mail; do not send it again.")

logger = logging.getLogger(__name__)


def _failed_for_good(draft_id: int, *, error: str, reason: str) -> None:
    draft_mark_send_failed(draft_id=draft_id, error=error, permanent=True)
    sends_failed_total.labels(reason=reason).inc()


def _send_error_is_transient(exc: BaseException) -> bool:
    """Retried only when the reply certainly did not reach the channel: a connection never made, or the
    channel's refusal (429, a lock, an expired token). A `maybe_sent` error never reaches the retry (below)."""
    return isinstance(exc, ChannelError) and not exc.permanent and not exc.maybe_sent


@shared_task(base=RetryingTask, bind=True, name=TaskName.SEND_DRAFT, autoretry_for=(ChannelError,),
             error_is_transient=staticmethod(_send_error_is_transient))
def send_draft(self, draft_id: int) -> str:
    """Claim, send, record. Transient failures are retried by the task policy (omnichannel/task_policy.py),
    each try a new claim, so a slow earlier try cannot double-send."""
    try:
        reply = draft_send_claim(draft_id=draft_id)
    except ApplicationError as exc:
        # An empty reply: recorded on the draft as a permanent failure by the claim.
        sends_failed_total.labels(reason="refused").inc()
        return f"refused: {exc.message}"
    if reply is None:
        wait = draft_send_wait_seconds(draft_id=draft_id)
        if wait is not None:
            # Early (a broker that ran the countdown short, a manual call): come back when the undo window ends.
            task_run_later(self, countdown=wait + 0.5)
            return "waiting for the undo window"
        return "nothing to send"  # already sent, not approved, undone, or another worker has it
    sender = channel_sender(reply.channel)
    if sender is None:
        _failed_for_good(draft_id, reason="refused", error=(
            f"Replies on the {reply.channel!r} channel cannot be sent from here (no sender is set up for it), so it "
            "was not sent. Answer the customer on that channel directly."))
        return "no sender"
    try:
        # The claim's lease is renewed while the channel call runs: a killed worker's send is flagged
        # within a minute or two, a slow one never (conversations/services/sending.py).
        with draft_send_lease_kept(reply=reply):
            external_id, from_address = sender(reply)
    except ChannelError as exc:
        error = f"{type(exc).__name__}: {exc}"
        if exc.permanent:
            _failed_for_good(draft_id, error=REFUSED_ERROR.format(error=error), reason="refused")
            return "failed"
        if exc.maybe_sent:
            # A 5xx or a dropped connection after the POST went out: Zoho may have sent it. Never repeated by
            # a machine (the customer could get it twice): an agent checks the thread, as after a killed worker.
            _failed_for_good(draft_id, error=MAYBE_SENT_ERROR.format(error=error), reason="interrupted")
            return "failed: it may have been sent"
        if reply.attempt >= SWEEP_MAX_ATTEMPTS:
            # Out of tries: the ensure_sent sweep will not re-queue it either; an agent decides.
            draft_mark_send_failed(draft_id=draft_id, error=OUT_OF_TRIES_ERROR.format(tries=reply.attempt, error=error),
                                   permanent=False)
            sends_failed_total.labels(reason="out_of_tries").inc()
            return "failed"
        draft_mark_send_failed(draft_id=draft_id, error=NOT_YET_ERROR.format(error=error), permanent=False)
        raise  # certainly not sent: retried with backoff; after the last retry a dead letter, and ensure_sent
    except Exception as exc:
        # A bug, a database error, a soft time limit while the channel call ran: the POST may have gone out.
        # Flagged for an agent like a `maybe_sent` answer, and not raised: a dead letter requeued by Ops
        # would send it again unchecked. Without this the claim stayed held with no error on the draft,
        # and inline (no sweep) the agent saw "Approved, sending" for ever.
        logger.exception("sending draft %s failed unexpectedly; flagged: it may have been sent", draft_id)
        _failed_for_good(draft_id, error=UNEXPECTED_ERROR.format(error=f"{type(exc).__name__}: {exc}"),
                         reason="interrupted")
        return "failed: it may have been sent"
    try:
        draft_mark_sent(reply=reply, external_msg_id=external_id, from_address=from_address)
    except Exception as exc:
        # Zoho has it: never sent again by a machine; the agent is told (same reasons as above).
        logger.exception("draft %s was sent as Zoho message %s but recording it failed", draft_id, external_id)
        _failed_for_good(draft_id, error=NOT_RECORDED_ERROR.format(external_id=external_id,
                                                                   error=f"{type(exc).__name__}: {exc}"),
                         reason="interrupted")
        return "failed: sent, not recorded"
    return f"sent {external_id}"


@shared_task(name=TaskName.ENSURE_SENT, acks_late=True)
def ensure_sent() -> dict[str, list[int]]:
    """Beat, every minute. Interrupted sends are only flagged for an agent (and counted as failed for
    good), never re-sent here: Zoho may already have delivered them (conversations/services/sending.py)."""
    sweep = drafts_send_sweep()
    for draft_id in sweep.requeued:
        send_draft.delay(draft_id)  # the claim inside send_draft keeps a duplicate queue entry harmless
    if sweep.interrupted:
        sends_failed_total.labels(reason="interrupted").inc(len(sweep.interrupted))
    return {"requeued": sweep.requeued, "interrupted": sweep.interrupted}
