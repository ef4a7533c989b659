"""Conversations and messages: idempotent on the provider's ids."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Min, OuterRef, Q, Subquery
from django.utils import timezone

from conversations.models import KEPT_HEADERS, Conversation, Message
from conversations.services.drafts import draft_supersede_on_outside_reply
from customers.selectors import tombstones_covering
from omnichannel.audit import audit_log_write
from omnichannel.jobs import enqueue
from omnichannel.task_names import TaskName


@dataclass
class MessageFacts:
    """A normalized message from any channel."""

    channel: str
    direction: str
    external_msg_id: str
    sent_at: datetime
    external_thread_id: str = ""
    rfc_message_id: str = ""
    in_reply_to: str = ""
    references: str = ""
    from_address: str = ""
    from_name: str = ""
    to_addresses: list = field(default_factory=list)
    cc_addresses: list = field(default_factory=list)
    subject: str = ""
    body: str = ""
    body_html: str = ""
    attachments: list = field(default_factory=list)
    raw_payload: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)  # RFC headers by name, any case; only KEPT_HEADERS are stored


def kept_headers(headers: dict) -> dict[str, str]:
    """The headers triage reads, by lower-case name (the first value of a repeated one)."""
    kept: dict[str, str] = {}
    for name, value in (headers or {}).items():
        key = str(name).strip().lower()
        if key in KEPT_HEADERS and key not in kept:
            kept[key] = " ".join(str(value).split())[:1000]
    return kept


# A reply header is the sender's claim, not proof: anyone can copy a Message-ID into In-Reply-To, and
# Zoho files such an email under the quoted thread, so its thread id is the sender's claim too. An
# inbound email joins the conversation it points at only when its sender already takes part in it (or
# writes from a trusted domain); otherwise it opens a conversation of its own, marked with the one it
# claimed, so a stranger never sees another customer's orders or supersedes their draft.
_MAX_CLAIMED = 20  # conversations a References header may point at, checked one query each


def _takes_part(conversation: Conversation, address: str) -> bool:
    """The address is the conversation's customer, or a sender or recipient of one of its messages."""
    if conversation.customer is not None and conversation.customer.email.lower() == address:
        return True
    rows = Message.objects.filter(conversation=conversation).values_list("from_address", "to_addresses", "cc_addresses")
    for from_address, to_addresses, cc_addresses in rows.iterator():
        if address == from_address.lower() or address in {str(a).lower() for a in [*to_addresses, *cc_addresses]}:
            return True
    return False


def _may_join(conversation: Conversation, facts: MessageFacts) -> bool:
    if facts.direction == Message.Direction.OUTBOUND:
        return True  # our own mailbox sent it
    sender = facts.from_address.strip().lower()
    if "@" not in sender or sender in settings.ZOHO_OWN_ADDRESSES:
        # Our own address on an inbound email is forged (ours are outbound, from the Sent folder); it
        # would otherwise "take part" in every conversation, being a recipient of each customer's email.
        return False
    return sender.rpartition("@")[2] in settings.THREAD_TRUSTED_DOMAINS or _takes_part(conversation, sender)


def _claim_thread_id(facts: MessageFacts) -> str:
    """The thread id of a sender's own conversation inside a Zoho thread they may not join: their
    follow-ups in that Zoho thread (and our replies) find it again. The address only as a keyed hash."""
    digest = hmac.new(settings.PII_HASH_SALT.encode(), facts.from_address.strip().lower().encode(), hashlib.sha256)
    return f"{facts.external_thread_id[:170]}~claim-{digest.hexdigest()[:16]}"


def _find_conversation(facts: MessageFacts) -> tuple[Conversation | None, Conversation | None]:
    """(the conversation to join, or None; the conversation the message points at but may not join, or None)."""
    claimed: list[Conversation] = []
    if facts.external_thread_id:
        found = (Conversation.objects.filter(channel=facts.channel, external_thread_id=facts.external_thread_id)
                 .select_related("customer").first())
        if found and _may_join(found, facts):
            return found, None
        if found:
            claimed.append(found)
            own = Conversation.objects.filter(channel=facts.channel, external_thread_id=_claim_thread_id(facts)).first()
            if own:
                return own, None
    # RFC threading: the message this one answers, or any it references, is in our thread.
    candidates = [facts.in_reply_to] + facts.references.split()
    candidates = [c.strip() for c in candidates if c and c.strip()]
    if candidates:
        parents = (Message.objects.filter(rfc_message_id__in=candidates, conversation__channel=facts.channel)
                   .select_related("conversation__customer").order_by("-sent_at"))
        for parent in parents[:_MAX_CLAIMED]:
            if any(c.pk == parent.conversation_id for c in claimed):
                continue
            if _may_join(parent.conversation, facts):
                return parent.conversation, None
            claimed.append(parent.conversation)
    return None, (claimed[0] if claimed else None)


def _sent_before_its_erasure(facts: MessageFacts) -> bool:
    """The customer this message is about (the sender of an inbound one, the recipients of ours) was
    erased after it was sent: an old email replayed, polled late or re-synced from the mailbox."""
    if facts.direction == Message.Direction.INBOUND:
        addresses = [facts.from_address]
    else:
        addresses = [*facts.to_addresses, *facts.cc_addresses]
    erased = tombstones_covering(emails=[a.strip().lower() for a in addresses if a], lock=True).emails
    return any(facts.sent_at <= erased_at for erased_at in erased.values())


@transaction.atomic
def message_ingest(*, facts: MessageFacts, customer=None, integration: str,
                   sent_draft_id: int | None = None) -> tuple[Message | None, bool]:
    """Record a message in its conversation (found by thread id, RFC headers, or new).

    Idempotent: the same provider message id twice gives one row; (message, created) is returned.
    An inbound message, once committed, requests a draft (the DraftRequested event). An outbound
    one is either a draft's reply we sent (`sent_draft_id`, from draft_mark_sent) or was sent from
    Zoho Mail directly, and then supersedes the conversation's pending draft of an older message.

    (None, False) for a message sent before its customer's erasure: it is not stored at all (the
    erasure covered everything up to then). One she sends afterwards is stored as any other, in a
    conversation of its own: the erased ones hold no address she could join them by.
    """
    existing = Message.objects.filter(external_msg_id=facts.external_msg_id).first() if facts.external_msg_id else None
    if existing is not None:
        return existing, False
    if _sent_before_its_erasure(facts):
        audit_log_write(event_type="message.refused_erased", integration=integration, payload={
            "external_msg_id": facts.external_msg_id, "direction": facts.direction})
        return None, False
    conversation, claimed = _find_conversation(facts)
    if conversation is None:
        thread_id = facts.external_thread_id
        if claimed is not None and thread_id and claimed.external_thread_id == thread_id:
            thread_id = _claim_thread_id(facts)  # the Zoho thread is the claimed conversation's
        try:
            with transaction.atomic():
                conversation = Conversation.objects.create(
                    channel=facts.channel, external_thread_id=thread_id,
                    subject=facts.subject[:500], customer=customer, claimed_reply_to=claimed,
                )
                if claimed is not None:
                    audit_log_write(event_type="conversation.join_refused", payload={
                        "conversation_id": conversation.pk, "claimed_conversation_id": claimed.pk},
                        integration=integration, obj=conversation)
        except IntegrityError:  # the same thread created concurrently by another worker
            conversation = Conversation.objects.get(channel=facts.channel, external_thread_id=thread_id)
    # Lock the conversation: messages of one thread are counted and drafted one at a time.
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation,
                direction=facts.direction,
                external_msg_id=facts.external_msg_id,
                rfc_message_id=facts.rfc_message_id[:500],
                in_reply_to=facts.in_reply_to[:500],
                references=facts.references,
                from_address=facts.from_address[:254],
                from_name=facts.from_name[:200],
                to_addresses=facts.to_addresses,
                cc_addresses=facts.cc_addresses,
                subject=facts.subject[:500],
                body=facts.body,
                body_html=facts.body_html,
                attachments=facts.attachments,
                raw_payload=facts.raw_payload,
                headers=kept_headers(facts.headers),
                sent_at=facts.sent_at,
            )
    except IntegrityError:  # the same message ingested concurrently (webhook and poll racing)
        return Message.objects.get(external_msg_id=facts.external_msg_id), False
    updates = {"updated_at": timezone.now()}
    if conversation.last_message_at is None or facts.sent_at >= conversation.last_message_at:
        updates["last_message_at"] = facts.sent_at
    if customer is not None and conversation.customer_id is None:
        updates["customer"] = customer
    updates.update(_waiting_since_update(conversation, facts))
    if facts.direction == Message.Direction.INBOUND:
        updates["unread_count"] = F("unread_count") + 1
        if conversation.status != Conversation.Status.OPEN:
            updates["status"] = Conversation.Status.OPEN  # the customer wrote again: our turn
            updates["closed_at"] = None
    elif conversation.status == Conversation.Status.OPEN and (
            conversation.last_message_at is None or facts.sent_at >= conversation.last_message_at):
        updates["status"] = Conversation.Status.WAITING  # we answered last: the customer's turn
    Conversation.objects.filter(pk=conversation.pk).update(**updates)
    audit_log_write(
        event_type="message.ingested",
        payload={"conversation_id": conversation.pk, "direction": facts.direction,
                 "external_msg_id": facts.external_msg_id},
        integration=integration, obj=message,
    )
    if facts.direction == Message.Direction.INBOUND:
        enqueue(TaskName.GENERATE_DRAFT, message.pk)
    elif sent_draft_id is None:
        draft_supersede_on_outside_reply(reply=message, integration=integration)
    return message, True


def _waiting_since_update(conversation: Conversation, facts: MessageFacts) -> dict:
    """Keep `waiting_since` = the oldest customer message not answered yet (None when we spoke last),
    whatever order the provider delivers messages in. The conversation row is locked by the caller."""
    if facts.direction == Message.Direction.INBOUND:
        arrived_late = conversation.last_message_at is not None and facts.sent_at < conversation.last_message_at
        if arrived_late and Message.objects.filter(conversation=conversation, direction=Message.Direction.OUTBOUND,
                                                   sent_at__gte=facts.sent_at).exists():
            return {}  # already answered by a reply we hold
        if conversation.waiting_since is None or facts.sent_at < conversation.waiting_since:
            return {"waiting_since": facts.sent_at}
        return {}
    if conversation.waiting_since is None or facts.sent_at < conversation.waiting_since:
        return {}
    unanswered = (Message.objects.filter(conversation=conversation, direction=Message.Direction.INBOUND,
                                         sent_at__gt=facts.sent_at).aggregate(first=Min("sent_at"))["first"])
    return {"waiting_since": unanswered}


@transaction.atomic
def conversation_mark_read(*, conversation_id: int, acting_user=None) -> int:
    """Mark every inbound message read; returns how many were unread."""
    now = timezone.now()
    count = Message.objects.filter(conversation_id=conversation_id, direction=Message.Direction.INBOUND,
                                   read_at__isnull=True).update(read_at=now)
    Conversation.objects.filter(pk=conversation_id).update(unread_count=0, updated_at=now)
    if count:
        audit_log_write(event_type="conversation.read", payload={"conversation_id": conversation_id, "messages": count},
                        acting_user=acting_user)
    return count


@transaction.atomic
def conversation_close(*, conversation_id: int, acting_user=None, reason: str = "agent") -> Conversation:
    """Close a conversation (an agent, or `conversations_auto_close`); a new inbound message reopens it."""
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    if conversation.status != Conversation.Status.CLOSED:
        conversation.status = Conversation.Status.CLOSED
        conversation.closed_at = timezone.now()
        conversation.save(update_fields=["status", "closed_at", "updated_at"])
        # Closed without a reply ("thanks, got it!"): its pending draft leaves the queue.
        withdrawn = list(conversation.drafts.filter(status="pending").values_list("pk", flat=True))
        conversation.drafts.filter(pk__in=withdrawn).update(status="superseded", updated_at=timezone.now())
        audit_log_write(event_type="conversation.closed", payload={"reason": reason, "drafts_withdrawn": withdrawn},
                        acting_user=acting_user, obj=conversation)
    return conversation


def conversations_auto_close(*, now=None, limit: int = 1000) -> list[int]:
    """Close the conversations waiting on the customer (we replied last) with no customer message for
    AUTO_CLOSE_DAYS. Open ones (the customer waits on us) never close by themselves."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.AUTO_CLOSE_DAYS)
    last_inbound = (Message.objects.filter(conversation=OuterRef("pk"), direction=Message.Direction.INBOUND)
                    .order_by("-sent_at").values("sent_at")[:1])
    due = list(Conversation.objects.filter(status=Conversation.Status.WAITING, last_message_at__lt=cutoff)
               .annotate(last_inbound=Subquery(last_inbound))
               .filter(Q(last_inbound__isnull=True) | Q(last_inbound__lt=cutoff))
               .order_by("pk").values_list("pk", flat=True)[:limit])
    for conversation_id in due:
        conversation_close(conversation_id=conversation_id,
                           reason=f"no customer message for {settings.AUTO_CLOSE_DAYS} days")
    return due
