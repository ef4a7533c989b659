"""Sending approved drafts: claim, record the outbound message, or record the failure.

The channel call itself happens between `draft_send_claim` and `draft_mark_sent`, outside any
transaction. The claim is a conditional UPDATE that must touch one row, so two workers (a
retry racing a slow first try) never send the same draft.

`sending_started_at` doubles as the "send attempted at" marker: it is set just before the
channel call and cleared only once the outcome is known (sent, or a failure recorded). While the
call runs, the sending worker keeps a lease on the claim (`send_lease_expires_at`, renewed by a
heartbeat: omnichannel/leases.py). A claim whose lease has expired means a worker died mid-send,
possibly after Zoho had accepted the reply. Zoho's send API has no idempotency key and the reply
cannot be matched back reliably, so such a draft is never re-sent automatically:
`drafts_send_sweep` (every minute) flags it on the draft (the review page shows it) and an agent
who has checked the thread re-sends it with `draft_send_retry`. So an interrupted send is flagged
within WORK_LEASE_SECONDS plus a minute, and a slow one (a provider taking minutes) never is.
Drafts whose task was lost before any attempt (re-queued a minute after they were due), or whose
transient failures exhausted the task's retries (after SWEEP_GRACE_SECONDS), are safe to re-queue,
and the sweep does, up to SWEEP_MAX_ATTEMPTS tries.

A send has failed for good when retrying cannot help (a permanent refusal, an empty reply), when
it was interrupted or may have reached Zoho (a 5xx after the POST, or any unexpected error once the
channel call began: never re-sent by a machine), or
after SWEEP_MAX_ATTEMPTS tries: `drafts_send_failed_for_good` lists them
for `check_alerts`, and the send_draft task counts each in `sends_failed_total`. The first two set
`Draft.send_stopped`, which the claim refuses: a send_draft task delivered again (a redelivery after a
lost ack, a duplicate queue entry, a dead letter requeued by Ops) cannot send a reply that may already
be in the customer's inbox. Only an agent's `draft_send_retry` clears it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from conversations.models import Approval, Draft, Message
from conversations.services.threads import MessageFacts, message_ingest
from omnichannel.audit import audit_log_write
from omnichannel.errors import ApplicationError, StateConflict
from omnichannel.jobs import enqueue
from omnichannel.leases import lease_kept, lease_until
from omnichannel.metrics import drafts_sent_total
from omnichannel.task_names import TaskName

# A claim without a lease (made before leases existed) is abandoned once this old: longer than the
# task's hard time limit, so it has no live worker.
SEND_CLAIM_SECONDS = 600
# The sweep leaves alone what send_draft's own retries still cover (omnichannel/task_policy.py: at most six
# waits of up to 10, 20, ... 320 s, about ten minutes in all), with room to spare.
SWEEP_GRACE_SECONDS = 2400
# A draft never tried whose send was due this long ago lost its task (a killed worker, a Redis restart):
# re-queued at once, not after the retries' grace. A duplicate queue entry is harmless (the claim).
LOST_SEND_GRACE_SECONDS = 60
SWEEP_MAX_ATTEMPTS = 12  # after this many failed tries a draft waits for an agent
EMPTY_REPLY_ERROR = ("The reply is empty (the customer's data was erased, or the draft was blank), so it is never "
                     "sent. Reply from Zoho Mail if the customer still needs an answer.")
PREPARE_FAILED_ERROR = "Preparing the reply failed ({error}), so it was not sent; it will be tried again."
INTERRUPTED_ERROR = ("Sending was interrupted (the worker stopped mid-send), so the reply may or may not have reached "
                     "Zoho. Check the thread in Zoho Mail, then use Send again if it is not there.")


@dataclass(frozen=True)
class OutboundReply:
    draft_id: int
    channel: str
    text: str
    subject: str
    reply_to_external_id: str
    to_address: str
    thread_id: str
    rfc_message_id: str
    references: str
    attempt: int = 0  # the claim's send_attempts: fences its lease renewals


def draft_reply_recipient(draft: Draft) -> str:
    """Who receives the reply: the sender of the message the draft answers (what `draft_send_claim`
    hands the channel, and what the review page shows the agent before approving)."""
    return draft.reply_to.from_address if draft.reply_to_id and draft.reply_to else ""


def draft_send_claim(*, draft_id: int) -> OutboundReply | None:
    """Claim an approved, unsent draft for sending; None when there is nothing to do. An empty reply
    is refused (ApplicationError), never sent."""
    now = timezone.now()
    # Only a draft with no attempt in flight: an expired claim is an interrupted send whose outcome
    # is unknown, and taking it over could send the reply twice (see the module docstring).
    # Never inside the undo window (send_after): the agent may still take the approval back.
    claimed = Draft.objects.filter(
        Q(send_after__isnull=True) | Q(send_after__lte=now),
        pk=draft_id, status=Draft.Status.APPROVED, sent_message__isnull=True, sending_started_at__isnull=True,
        send_stopped=False,
    ).update(sending_started_at=now, send_lease_expires_at=lease_until(now), send_attempts=F("send_attempts") + 1,
             updated_at=now)
    if claimed != 1:
        return None
    try:
        return _outbound_reply(draft_id)
    except ApplicationError:
        raise  # the empty reply: already recorded as a permanent failure
    except Exception as exc:
        # Nothing went out: the claim is released with the error shown, and the send may be tried again
        # (the ensure_sent sweep re-queues it after its grace). Held, it would read "sending" for ever inline.
        draft_mark_send_failed(draft_id=draft_id, error=PREPARE_FAILED_ERROR.format(error=f"{type(exc).__name__}: {exc}"),
                               permanent=False)
        raise


def _outbound_reply(draft_id: int) -> OutboundReply:
    draft = Draft.objects.select_related("conversation", "reply_to").get(pk=draft_id)
    approval = Approval.objects.get(draft=draft)
    if not approval.final_text.strip():
        # Checked after the claim, so an erasure that blanked the text a moment ago is seen. Recorded as a
        # permanent failure: the review page shows it and the ensure_sent sweep leaves the draft alone.
        draft_mark_send_failed(draft_id=draft_id, error=EMPTY_REPLY_ERROR, permanent=True)
        raise ApplicationError(f"Draft {draft_id}: {EMPTY_REPLY_ERROR}")
    original = draft.reply_to
    # One line: CR/LF (or any other line break) in a customer's subject must not reach the reply's headers.
    subject = " ".join((original.subject if original else draft.conversation.subject).split())
    return OutboundReply(
        draft_id=draft.pk, channel=draft.conversation.channel, text=approval.final_text,
        subject=subject if subject.lower().startswith("re:") else f"Re: {subject}",
        reply_to_external_id=original.external_msg_id if original else "",
        to_address=draft_reply_recipient(draft), thread_id=draft.conversation.external_thread_id,
        rfc_message_id=original.rfc_message_id if original else "",
        references=" ".join(filter(None, [original.references, original.rfc_message_id])) if original else "",
        attempt=draft.send_attempts,
    )


def draft_send_lease_kept(*, reply: OutboundReply):
    """Keep the claim's lease alive while the channel call runs (a heartbeat thread), so the sweep
    flags the send as interrupted only once its worker has died."""
    def renew() -> bool:
        return Draft.objects.filter(pk=reply.draft_id, sent_message__isnull=True, sending_started_at__isnull=False,
                                    send_attempts=reply.attempt).update(send_lease_expires_at=lease_until()) == 1

    return lease_kept(renew, name=f"sending draft {reply.draft_id}")


def _send_abandoned(now) -> Q:
    """A claim whose worker is gone: its lease expired (or, from before leases, it is older than
    SEND_CLAIM_SECONDS)."""
    return Q(sending_started_at__isnull=False) & (
        Q(send_lease_expires_at__lt=now)
        | Q(send_lease_expires_at__isnull=True, sending_started_at__lt=now - timedelta(seconds=SEND_CLAIM_SECONDS)))


def draft_send_wait_seconds(*, draft_id: int) -> float | None:
    """Seconds left in an approved draft's undo window, or None when it is not waiting for one."""
    send_after = (Draft.objects.filter(pk=draft_id, status=Draft.Status.APPROVED, sent_message__isnull=True)
                  .values_list("send_after", flat=True).first())
    if send_after is None or send_after <= timezone.now():
        return None
    return (send_after - timezone.now()).total_seconds()


@transaction.atomic
def draft_mark_sent(*, reply: OutboundReply, external_msg_id: str, from_address: str) -> Message:
    draft = Draft.objects.select_for_update().get(pk=reply.draft_id)
    message, _ = message_ingest(facts=MessageFacts(
        channel=reply.channel, direction=Message.Direction.OUTBOUND, external_msg_id=external_msg_id,
        external_thread_id=reply.thread_id, in_reply_to=reply.rfc_message_id, references=reply.references,
        from_address=from_address, to_addresses=[reply.to_address], subject=reply.subject, body=reply.text,
        sent_at=timezone.now(),
    ), integration=reply.channel, sent_draft_id=draft.pk)
    draft.status = Draft.Status.SENT
    draft.sent_message = message
    draft.sending_started_at = None
    draft.send_lease_expires_at = None
    draft.last_send_error = ""
    draft.save(update_fields=["status", "sent_message", "sending_started_at", "send_lease_expires_at",
                              "last_send_error", "updated_at"])
    audit_log_write(event_type="draft.sent", payload={"draft_id": draft.pk, "message_id": message.pk,
                                                      "external_msg_id": external_msg_id,
                                                      "attempts": draft.send_attempts},
                    integration=reply.channel, obj=draft)
    transaction.on_commit(drafts_sent_total.inc)
    return message


@transaction.atomic
def draft_mark_send_failed(*, draft_id: int, error: str, permanent: bool) -> None:
    """Release the claim and keep the error visible on the draft (the review page shows it). A permanent
    failure (refused for good, or the reply may have reached Zoho) also stops every later machine try."""
    Draft.objects.filter(pk=draft_id).update(sending_started_at=None, send_lease_expires_at=None,
                                             last_send_error=error[:2000], updated_at=timezone.now(),
                                             **({"send_stopped": True} if permanent else {}))
    audit_log_write(event_type="draft.send_failed", payload={"draft_id": draft_id, "error": error[:500],
                                                             "permanent": permanent},
                    integration=TaskName.SEND_DRAFT, obj=Draft.objects.get(pk=draft_id))


@dataclass(frozen=True)
class SendSweep:
    requeued: list[int]  # lost before any attempt, or out of retries after transient failures
    interrupted: list[int]  # newly flagged: a send was attempted and its outcome is unknown


def drafts_failing_to_send():
    """Approved drafts not sent whose last try failed (retrying, interrupted or failed for good): the
    `drafts_send_failed` gauge and the agents' home count them."""
    return Draft.objects.filter(status=Draft.Status.APPROVED, sent_message__isnull=True).exclude(last_send_error="")


def drafts_send_failed_for_good():
    """Those of `drafts_failing_to_send` that no machine will try again: refused for good, interrupted
    (an agent must check Zoho), or out of tries. Each waits for an agent (`check_alerts` fires)."""
    return drafts_failing_to_send().filter(Q(send_stopped=True) | Q(send_attempts__gte=SWEEP_MAX_ATTEMPTS))


def drafts_send_sweep(*, now=None, limit: int = 500) -> SendSweep:
    """Find approved drafts that are not sent and nobody is sending (the `ensure_sent` task re-queues
    the first list). Two queries and one update per newly interrupted draft; `limit` bounds a run."""
    now = now or timezone.now()
    unsent = Draft.objects.filter(status=Draft.Status.APPROVED, sent_message__isnull=True)
    lost_before = now - timedelta(seconds=LOST_SEND_GRACE_SECONDS)
    never_tried = Q(send_attempts=0) & (Q(send_after__lt=lost_before)
                                        | Q(send_after__isnull=True, updated_at__lt=lost_before))
    requeued = list(unsent.filter(never_tried | Q(updated_at__lt=now - timedelta(seconds=SWEEP_GRACE_SECONDS)),
                                  sending_started_at__isnull=True, send_attempts__lt=SWEEP_MAX_ATTEMPTS,
                                  send_stopped=False).order_by("pk").values_list("pk", flat=True)[:limit])
    interrupted = []
    stale = (unsent.filter(_send_abandoned(now), send_stopped=False).order_by("pk").values_list("pk", flat=True)[:limit])
    for draft_id in stale:
        with transaction.atomic():
            # The claim stays set, so send_draft keeps refusing it until an agent decides. Conditional on the
            # lease being expired still: a heartbeat that renewed it meanwhile belongs to a live worker.
            if Draft.objects.filter(_send_abandoned(now), pk=draft_id, sent_message__isnull=True).update(
                    last_send_error=INTERRUPTED_ERROR, send_stopped=True, updated_at=now) == 1:
                audit_log_write(event_type="draft.send_interrupted", payload={"draft_id": draft_id},
                                integration=TaskName.ENSURE_SENT, obj=Draft.objects.get(pk=draft_id))
                interrupted.append(draft_id)
    return SendSweep(requeued=requeued, interrupted=interrupted)


@transaction.atomic
def draft_send_retry(*, draft_id: int, acting_user) -> None:
    """An agent re-sends an approved draft whose send failed or was interrupted (having checked Zoho)."""
    now = timezone.now()
    released = Draft.objects.filter(pk=draft_id, status=Draft.Status.APPROVED, sent_message__isnull=True).filter(
        Q(sending_started_at__isnull=True) | _send_abandoned(now)
    ).update(sending_started_at=None, send_lease_expires_at=None, send_stopped=False, updated_at=now)
    if released != 1:
        raise StateConflict(f"Draft {draft_id} is sent, not approved, or being sent right now; nothing to send again.")
    if not Approval.objects.get(draft_id=draft_id).final_text.strip():
        raise ApplicationError(f"Draft {draft_id}: {EMPTY_REPLY_ERROR}")  # the release above is rolled back
    audit_log_write(event_type="draft.send_retried", payload={"draft_id": draft_id}, acting_user=acting_user,
                    obj=Draft.objects.get(pk=draft_id))
    enqueue(TaskName.SEND_DRAFT, draft_id)
