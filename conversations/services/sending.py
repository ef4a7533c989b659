"""Sending approved drafts: claim, record the outbound message, or record the failure.

The channel call itself happens between `draft_send_claim` and `draft_mark_sent`, outside any
transaction. The claim is a conditional UPDATE that must touch one row, so two workers (a
retry racing a slow first try) never send the same draft; a claim older than
SEND_CLAIM_SECONDS is considered abandoned (the worker died) and can be taken again.
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

SEND_CLAIM_SECONDS = 600


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


def draft_send_claim(*, draft_id: int) -> OutboundReply | None:
    """Claim an approved, unsent draft for sending; None when there is nothing to do."""
    now = timezone.now()
    claimed = Draft.objects.filter(
        Q(pk=draft_id, status=Draft.Status.APPROVED, sent_message__isnull=True)
        & (Q(sending_started_at__isnull=True) | Q(sending_started_at__lt=now - timedelta(seconds=SEND_CLAIM_SECONDS)))
    ).update(sending_started_at=now, send_attempts=F("send_attempts") + 1, updated_at=now)
    if claimed != 1:
        return None
    draft = Draft.objects.select_related("conversation", "reply_to").get(pk=draft_id)
    approval = Approval.objects.get(draft=draft)
    original = draft.reply_to
    subject = original.subject if original else draft.conversation.subject
    return OutboundReply(
        draft_id=draft.pk, channel=draft.conversation.channel, text=approval.final_text,
        subject=subject if subject.lower().startswith("re:") else f"Re: {subject}",
        reply_to_external_id=original.external_msg_id if original else "",
        to_address=original.from_address if original else "", thread_id=draft.conversation.external_thread_id,
        rfc_message_id=original.rfc_message_id if original else "",
        references=" ".join(filter(None, [original.references, original.rfc_message_id])) if original else "",
    )


@transaction.atomic
def draft_mark_sent(*, reply: OutboundReply, external_msg_id: str, from_address: str) -> Message:
    draft = Draft.objects.select_for_update().get(pk=reply.draft_id)
    message, _ = message_ingest(facts=MessageFacts(
        channel=reply.channel, direction=Message.Direction.OUTBOUND, external_msg_id=external_msg_id,
        external_thread_id=reply.thread_id, in_reply_to=reply.rfc_message_id, references=reply.references,
        from_address=from_address, to_addresses=[reply.to_address], subject=reply.subject, body=reply.text,
        sent_at=timezone.now(),
    ), integration=reply.channel)
    draft.status = Draft.Status.SENT
    draft.sent_message = message
    draft.sending_started_at = None
    draft.last_send_error = ""
    draft.save(update_fields=["status", "sent_message", "sending_started_at", "last_send_error", "updated_at"])
    audit_log_write(event_type="draft.sent", payload={"draft_id": draft.pk, "message_id": message.pk,
                                                      "external_msg_id": external_msg_id,
                                                      "attempts": draft.send_attempts},
                    integration=reply.channel, obj=draft)
    return message


@transaction.atomic
def draft_mark_send_failed(*, draft_id: int, error: str, permanent: bool) -> None:
    """Release the claim and keep the error visible on the draft (the review page shows it)."""
    Draft.objects.filter(pk=draft_id).update(sending_started_at=None, last_send_error=error[:2000],
                                             updated_at=timezone.now())
    audit_log_write(event_type="draft.send_failed", payload={"draft_id": draft_id, "error": error[:500],
                                                             "permanent": permanent},
                    integration="send_draft", obj=Draft.objects.get(pk=draft_id))
