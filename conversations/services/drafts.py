"""Drafts: created by the assistant; a new one supersedes the conversation's pending draft."""

from __future__ import annotations

from collections import Counter

from django.db import models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from conversations.models import NOT_DRAFTED, Conversation, Draft, Message
from omnichannel.audit import audit_log_write
from omnichannel.models import DeadLetter


@transaction.atomic
def draft_create(
    *,
    conversation_id: int,
    body: str,
    confidence: float,
    intent: str = "",
    reply_to_id: int | None = None,
    model_run=None,
    correction_ids: list[int] | None = None,
    provider_error: str = "",
    retrieval_error: str = "",
) -> Draft:
    """Create a pending draft; any older pending draft of the conversation becomes superseded.

    `provider_error` / `retrieval_error`: why this draft is a fallback (the provider failed and the
    grounded drafter stood in; Chroma was unreachable), kept in the audit row with the draft.

    The conversation row is locked first so two drafting workers for one thread serialize
    here, and the partial unique index guarantees at most one pending draft regardless.
    """
    if not 0.0 <= confidence <= 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
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
    )
    if correction_ids:
        draft.corrections_applied.set(correction_ids)
    audit_log_write(
        event_type="draft.created",
        payload={"conversation_id": conversation.pk, "intent": intent, "confidence": draft.confidence,
                 "model_run_id": model_run.pk if model_run else None, "superseded": superseded,
                 "provider_error": provider_error, "retrieval_error": retrieval_error},
        integration="assistant", obj=draft,
    )
    return draft


def latest_inbound_message(conversation_id: int) -> Message | None:
    return (Message.objects.filter(conversation_id=conversation_id, direction=Message.Direction.INBOUND)
            .order_by("-sent_at", "-id").first())


# A message whose draft failed for good this many times (unresolved dead letters of generate_draft)
# is no longer re-requested every ten minutes: it waits in the DeadLetter admin for Ops to requeue
# it (which resolves the dead letter) once the cause is fixed.
DRAFT_GIVE_UP_AFTER = 3


def messages_awaiting_draft(*, limit: int = 1000) -> list[int]:
    """The latest inbound message of each open conversation that has no draft for it at all: a
    generate_draft task lost on the way (a worker killed between commit and publish, a crash), or
    one that failed, up to DRAFT_GIVE_UP_AFTER times. Triage set apart (auto-replies, bounces,
    spam, privacy requests) gets no draft by design: not missing, not re-requested."""
    latest_inbound = (Message.objects.filter(conversation=OuterRef("conversation"), direction=Message.Direction.INBOUND)
                      .order_by("-sent_at", "-id").values("pk")[:1])
    has_draft = Draft.objects.filter(reply_to=OuterRef("pk"))
    candidates = list(Message.objects.filter(direction=Message.Direction.INBOUND, is_erased=False,
                                             conversation__status__in=[Conversation.Status.OPEN,
                                                                       Conversation.Status.WAITING],
                                             pk=models.Subquery(latest_inbound))
                      .exclude(triage_label__in=NOT_DRAFTED)
                      .filter(~Exists(has_draft)).order_by("pk").values_list("pk", flat=True)[:limit])
    if not candidates:
        return []
    failures = Counter(DeadLetter.objects.filter(task_name="generate_draft", resolved_at__isnull=True,
                                                 args__0__in=candidates).values_list("args__0", flat=True))
    return [pk for pk in candidates if failures[pk] < DRAFT_GIVE_UP_AFTER]
