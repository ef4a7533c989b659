"""Drafts: created by the assistant; a new one supersedes the conversation's pending draft.

Exactly once. generate_draft is delivered at least once (acks_late and Redis' visibility timeout
hand a killed worker's task to another; the ensure_drafts sweep re-requests), so whether a message
may get a new draft is decided here, under the conversation row lock, in the transaction that
creates it (`draft_create`), by `draft_skip_reason`:

- A message gets at most one automatic draft, ever: once it has a draft in any status (pending,
  approved, sent, rejected, superseded), a repeated or late generate_draft makes nothing.
- `refresh` (a new correction, the draft_reply command) replaces the message's draft only while it
  is still pending; a decided message is never redrafted by it. An agent's explicit "reject and
  redraft" (a later feature) will be a third way in, e.g. `redraft_of=<the rejected draft>`.
- The pending draft answers the conversation's newest inbound message: a message with a newer
  inbound one (a parent delivered after its reply) gets none, and neither does a message already
  answered by a reply sent outside the product (from Zoho Mail directly), which in turn
  supersedes the pending draft of an older message (`draft_supersede_on_outside_reply`).

Every refusal is an audit row, `draft.skipped` with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from conversations.models import NOT_DRAFTED, Conversation, Draft, Message
from omnichannel.audit import audit_log_write

# Why a message gets no new draft (the `reason` of a draft.skipped audit row).
SKIP_NOT_DRAFTABLE = "not_draftable"  # gone, erased, or not an inbound message
SKIP_ALREADY_DRAFTED = "already_drafted"  # it has a draft, in any status: one automatic draft, ever
SKIP_NOT_PENDING = "draft_not_pending"  # a refresh, but its draft was decided or superseded meanwhile
SKIP_NEWER_INBOUND = "newer_inbound"  # the thread's newest inbound message is the one to answer
SKIP_ANSWERED_OUTSIDE = "answered_outside"  # a reply sent from Zoho directly came after it
SKIP_REDRAFT_DONE = "redraft_not_due"  # a redraft whose rejected draft is no longer the message's latest

# Why a pending draft was superseded other than by a newer draft (the `reason` of draft.superseded).
SUPERSEDED_REPLIED_OUTSIDE = "replied_outside"
SUPERSEDED_CUSTOMER_ERASED = "customer_erased"


@dataclass(frozen=True)
class DraftSkip:
    reason: str
    detail: dict = field(default_factory=dict)


def _later_than(sent_at, pk) -> Q:
    """Messages after this one in thread order (sent_at, then id): values or OuterRef expressions."""
    return Q(sent_at__gt=sent_at) | Q(sent_at=sent_at, pk__gt=pk)


def _outside_replies(messages: models.QuerySet[Message]) -> models.QuerySet[Message]:
    """Those of `messages` that are outbound and no draft's sent reply: sent from Zoho Mail directly."""
    return messages.filter(direction=Message.Direction.OUTBOUND).filter(
        ~Exists(Draft.objects.filter(sent_message=OuterRef("pk"))))


def draft_skip_reason(*, message_id: int, refresh: bool = False, redraft_of: int | None = None) -> DraftSkip | None:
    """Why this message must not get a new draft now, or None when it may (see the module docstring).

    Read without a lock it is a cheap early look that saves composing for nothing; the answer that
    counts is the one `draft_create` gets under the conversation lock. Four small indexed queries."""
    message = (Message.objects.filter(pk=message_id)
               .values("conversation_id", "direction", "is_erased", "sent_at").first())
    if message is None or message["direction"] != Message.Direction.INBOUND or message["is_erased"]:
        return DraftSkip(SKIP_NOT_DRAFTABLE, {"exists": message is not None})
    drafts = list(Draft.objects.filter(reply_to_id=message_id).order_by("-pk").values_list("pk", "status"))
    if redraft_of is not None:
        # An agent's "reject and redraft": once, while the rejected draft is still the message's latest.
        if not drafts or drafts[0] != (redraft_of, Draft.Status.REJECTED):
            return DraftSkip(SKIP_REDRAFT_DONE, {"redraft_of": redraft_of, "latest": drafts[0] if drafts else None})
    elif drafts and not (refresh and any(status == Draft.Status.PENDING for _, status in drafts)):
        latest, status = drafts[0]
        return DraftSkip(SKIP_NOT_PENDING if refresh else SKIP_ALREADY_DRAFTED, {"draft_id": latest, "status": status})
    later = Message.objects.filter(_later_than(message["sent_at"], message_id),
                                   conversation_id=message["conversation_id"])
    # An auto-reply, bounce or spam after the customer's question does not make it stale.
    newer = (later.filter(direction=Message.Direction.INBOUND).exclude(triage_label__in=NOT_DRAFTED)
             .order_by("-sent_at", "-pk").values_list("pk", flat=True))
    if newer_id := newer.first():
        return DraftSkip(SKIP_NEWER_INBOUND, {"newer_message_id": newer_id})
    outside = _outside_replies(later).order_by("sent_at", "pk").values_list("pk", flat=True)
    if outside_id := outside.first():
        return DraftSkip(SKIP_ANSWERED_OUTSIDE, {"outbound_message_id": outside_id})
    return None


def draft_skip_record(*, message_id: int, skip: DraftSkip, refresh: bool = False, locked: bool = False) -> None:
    """The audit row of a generate_draft that made nothing: which message, why, and at which check
    (`locked`: the authoritative one, so something changed while this worker composed)."""
    message = Message.objects.filter(pk=message_id).only("pk", "conversation_id").first()
    audit_log_write(
        event_type="draft.skipped",
        payload={"message_id": message_id, "conversation_id": message.conversation_id if message else None,
                 "reason": skip.reason, "refresh": refresh, "locked": locked, **skip.detail},
        integration="assistant", obj=message,
    )


def draft_lock_and_check(*, conversation_id: int, message_id: int, refresh: bool = False,
                         redraft_of: int | None = None) -> DraftSkip | None:
    """Lock the conversation and give the authoritative answer of `draft_skip_reason`, recording a refusal.
    Only inside the transaction that creates the draft (Django refuses select_for_update outside one).

    Two workers drafting one thread serialize on this lock, and so do message_ingest and the
    erasure, which take it too. Call it first in the transaction that creates the draft: before
    any insert that references the conversation (a model run), whose foreign-key check takes a
    KEY SHARE lock that two workers could not both upgrade to this FOR UPDATE without a deadlock."""
    Conversation.objects.select_for_update().filter(pk=conversation_id).values_list("pk", flat=True).first()
    skip = draft_skip_reason(message_id=message_id, refresh=refresh, redraft_of=redraft_of)
    if skip is not None:
        draft_skip_record(message_id=message_id, skip=skip, refresh=refresh, locked=True)
    return skip


@transaction.atomic
def draft_create(
    *,
    conversation_id: int,
    body: str,
    confidence: float,
    intent: str = "",
    reply_to_id: int | None = None,
    refresh: bool = False,
    redraft_of: int | None = None,
    model_run=None,
    correction_ids: list[int] | None = None,
    provider_error: str = "",
    retrieval_error: str = "",
) -> Draft | None:
    """Create a pending draft; any older pending draft of the conversation becomes superseded.

    A draft answering a message (`reply_to_id`) is created only if `draft_skip_reason` allows it,
    checked here under the conversation lock; otherwise nothing is created, the refusal is an
    audit row, and None is returned. `refresh` replaces the message's still-pending draft.

    `provider_error` / `retrieval_error`: why this draft is a fallback (the provider failed and the
    grounded drafter stood in; Chroma was unreachable), kept in the audit row with the draft.

    The partial unique index guarantees at most one pending draft per conversation regardless.
    """
    if not 0.0 <= confidence <= 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    if reply_to_id is not None and draft_lock_and_check(conversation_id=conversation_id, message_id=reply_to_id,
                                                        refresh=refresh, redraft_of=redraft_of) is not None:
        return None
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    superseded = list(
        Draft.objects.filter(conversation=conversation, status=Draft.Status.PENDING).values_list("pk", flat=True)
    )
    if superseded:
        Draft.objects.filter(pk__in=superseded).update(status=Draft.Status.SUPERSEDED, updated_at=timezone.now())
    draft = Draft.objects.create(
        conversation=conversation,
        reply_to_id=reply_to_id,
        model_run=model_run,
        body=body,
        confidence=round(float(confidence), 4),
        intent=intent,
        replaces_id=redraft_of,
        waiting_since=conversation.waiting_since or Message.objects.filter(pk=reply_to_id)
        .values_list("sent_at", flat=True).first(),
    )
    if correction_ids:
        draft.corrections_applied.set(correction_ids)
    audit_log_write(
        event_type="draft.created",
        payload={"conversation_id": conversation.pk, "intent": intent, "confidence": draft.confidence,
                 "model_run_id": model_run.pk if model_run else None, "superseded": superseded,
                 "reply_to_id": reply_to_id, "refresh": refresh,
                 "provider_error": provider_error, "retrieval_error": retrieval_error},
        integration="assistant", obj=draft,
    )
    return draft


def drafts_supersede(*, drafts, reason: str, detail: dict | None = None, acting_user=None,
                     integration: str | None = None) -> list[int]:
    """The pending ones of `drafts` (a Draft queryset) can no longer be approved: superseded, with a
    `draft.superseded` audit row each saying why (the review page shows it). Call inside the
    transaction that holds the conversations' locks. Returns the ids."""
    pending = list(drafts.filter(status=Draft.Status.PENDING).order_by("pk").only("pk", "conversation_id"))
    if not pending:
        return []
    Draft.objects.filter(pk__in=[d.pk for d in pending], status=Draft.Status.PENDING).update(
        status=Draft.Status.SUPERSEDED, updated_at=timezone.now())
    for draft in pending:
        audit_log_write(event_type="draft.superseded", acting_user=acting_user, integration=integration, obj=draft,
                        payload={"reason": reason, "conversation_id": draft.conversation_id, **(detail or {})})
    return [d.pk for d in pending]


def draft_supersede_on_outside_reply(*, reply: Message, integration: str) -> list[int]:
    """An outbound message we did not send (an agent answered in Zoho Mail directly) answers the
    thread: the pending draft must not go out as a second reply, if it answers an older message.
    message_ingest calls it under the conversation lock, for outbound messages not sent by a draft."""
    pending = (Draft.objects.filter(conversation_id=reply.conversation_id, status=Draft.Status.PENDING)
               .select_related("reply_to").first())
    if pending is None or pending.reply_to is None:
        return []
    answered = pending.reply_to
    if (reply.sent_at, reply.pk) <= (answered.sent_at, answered.pk):
        return []  # an older reply, delivered late: the newer question still needs an answer
    # While one of our drafts is being sent (claimed, not yet recorded), an outbound message may be
    # that very reply, read back by the Zoho poll or webhook before draft_mark_sent links it by its
    # Zoho id. It answers an older message, so it must not supersede the newer one's draft.
    if Draft.objects.filter(conversation_id=reply.conversation_id, sent_message__isnull=True,
                            sending_started_at__isnull=False).exists():
        return []
    return drafts_supersede(drafts=Draft.objects.filter(pk=pending.pk), reason=SUPERSEDED_REPLIED_OUTSIDE,
                            detail={"message_id": reply.pk, "answered_message_id": answered.pk},
                            integration=integration)


# A message whose draft failed for good this many times (Message.draft_failures, counted by
# `message_draft_failed`) is no longer re-requested every ten minutes: it waits in the DeadLetter admin
# for Ops to requeue a dead letter once the cause is fixed; that requeued task drafts it.
DRAFT_GIVE_UP_AFTER = 3


def messages_awaiting_draft(*, limit: int = 1000) -> list[int]:
    """The latest inbound message of each open conversation that has no draft for it at all: a
    generate_draft task lost on the way (a worker killed between commit and publish, a crash), or
    one that failed, up to DRAFT_GIVE_UP_AFTER times. The same rules as `draft_skip_reason`, so
    what the sweep asks for is drafted: not an older message of the thread, not one already
    answered from Zoho directly.
    Triage set apart (auto-replies, bounces, spam, privacy requests) gets no draft by design: not
    missing, not re-requested."""
    latest_inbound = (Message.objects.filter(conversation=OuterRef("conversation"), direction=Message.Direction.INBOUND)
                      .exclude(triage_label__in=NOT_DRAFTED).order_by("-sent_at", "-id").values("pk")[:1])
    has_draft = Draft.objects.filter(reply_to=OuterRef("pk"))
    answered_outside = _outside_replies(Message.objects.filter(_later_than(OuterRef("sent_at"), OuterRef("pk")),
                                                               conversation=OuterRef("conversation")))
    return list(Message.objects.filter(direction=Message.Direction.INBOUND, is_erased=False,
                                             conversation__status__in=[Conversation.Status.OPEN,
                                                                       Conversation.Status.WAITING],
                                             draft_failures__lt=DRAFT_GIVE_UP_AFTER, pk=models.Subquery(latest_inbound))
                      .exclude(triage_label__in=NOT_DRAFTED)
                      .filter(~Exists(has_draft), ~Exists(answered_outside))
                      .order_by("pk").values_list("pk", flat=True)[:limit])


def message_draft_failed(*, message_id: int) -> None:
    """A generate_draft for this message failed for good (its retries spent, or an error retrying cannot
    help): counted on the message, the sweep's own state. Its dead letter is the record Ops read and
    requeue; the sweep never reads dead letters."""
    Message.objects.filter(pk=message_id).update(draft_failures=F("draft_failures") + 1)
