"""The conversations app's part of a customer's erasure and of her data-request export (registered
with customers/parts.py in ConversationsConfig.ready; customers/services_erasure.py runs them).

Her conversations are those of her customer rows and those she wrote in (by her address, or by its
hash once retention erased them in place). Erased: the messages' texts, addresses and attachments,
the conversations' subjects, her pending drafts (superseded first, so none can be approved as an
empty reply) and every draft's text, the approvals' texts; after commit, the approved replies leave
the retrieval index and her conversations' blobs (archives and attachments) are deleted. The
archive blob is deleted, not rewritten: see customers/services_erasure.py.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast

from conversations.models import Approval, Conversation, Draft, Message
from conversations.services.drafts import SUPERSEDED_CUSTOMER_ERASED, drafts_supersede
from conversations.services.retention import archive_document
from customers.parts import Erasure, Export
from omnichannel.blobstore import blob_delete
from omnichannel.errors import ApplicationError
from omnichannel.jobs import enqueue
from omnichannel.pii import approvals_blank, pii_hash
from omnichannel.task_names import TaskName

_MESSAGE_FIELDS = ["direction", "sent_at", "from_address", "from_name", "to_addresses", "cc_addresses", "subject",
                   "body"]


def _any_of(lookup: str, values: Iterable[str]) -> Q:
    query = Q(pk__in=[])
    for value in values:
        query |= Q(**{lookup: value})
    return query


def conversations_find_customer(erasure: Erasure) -> None:
    """Before anything is blanked: her conversations, locked, and the names her emails were signed with."""
    # An archived conversation's messages hold the hash already (retention erased them in place).
    conversations = list(Conversation.objects.filter(
        Q(customer__in=erasure.customers) | _any_of("messages__from_address__iexact", erasure.emails)
        | _any_of("messages__from_address", [pii_hash(a) for a in erasure.emails])).distinct()
        .values_list("pk", flat=True))
    # Locked in a fixed order (by pk), as drafting locks each one: a draft being written for one of them
    # either commits first (and is superseded and blanked below) or waits, then finds its message erased.
    list(Conversation.objects.select_for_update().filter(pk__in=conversations).order_by("pk").values_list("pk", flat=True))
    erasure.conversation_ids = conversations
    erasure.names |= set(Message.objects.filter(conversation__in=conversations, direction=Message.Direction.INBOUND)
                         .exclude(from_name="").values_list("from_name", flat=True).distinct())


def conversations_erase_customer(erasure: Erasure) -> dict[str, int]:
    """Inside the erasure's transaction, her conversations locked by `conversations_find_customer`."""
    conversations = erasure.conversation_ids
    archive_keys = [key for key in Conversation.objects.filter(pk__in=conversations).exclude(archive_blob_key="")
                    .values_list("archive_blob_key", flat=True)]
    attachment_keys = _attachment_blob_keys(Message.objects.filter(conversation__in=conversations))
    drafts = list(Draft.objects.filter(conversation__in=conversations).values_list("pk", flat=True))
    approvals = list(Approval.objects.filter(draft__in=drafts).values_list("pk", flat=True))
    counts = {"messages": Message.objects.filter(conversation__in=conversations).update(
        body="", body_html="", subject="", from_name="", to_addresses=[], cc_addresses=[], attachments=[],
        raw_payload={}, headers={}, is_erased=True)}
    for address in erasure.emails:
        Message.objects.filter(conversation__in=conversations, from_address__iexact=address).update(
            from_address=pii_hash(address))
    Conversation.objects.filter(pk__in=conversations).update(subject="", archive_blob_key="")
    # Her pending drafts leave the queue: blanked below, they could otherwise be approved as an empty reply.
    counts["drafts_superseded"] = len(drafts_supersede(
        drafts=Draft.objects.filter(pk__in=drafts), reason=SUPERSEDED_CUSTOMER_ERASED,
        acting_user=erasure.acting_user, integration=erasure.integration))
    counts["drafts"] = Draft.objects.filter(pk__in=drafts).update(body="", last_send_error="")
    counts["approvals"] = approvals_blank(drafts)
    counts["archives"] = len(archive_keys)
    # After commit: no I/O inside the transaction, and a rollback must leave the blobs and the index as they were.
    if approvals:  # a compaction rewrites the whole collection: only when something of hers was in it
        enqueue(TaskName.FORGET_APPROVED_REPLIES, approval_ids=approvals, compact=erasure.compact_index)
    transaction.on_commit(lambda: _delete_conversation_blobs(
        archive_keys=archive_keys, attachment_keys=attachment_keys, erased_conversations=conversations))
    return counts


def _attachment_blob_keys(messages) -> set[str]:
    return {attachment["blob_key"] for attachments in messages.values_list("attachments", flat=True)
            for attachment in (attachments or []) if isinstance(attachment, dict) and attachment.get("blob_key")}


def _blob_keys_still_used(keys: set[str], erased_conversations: list[int]) -> set[str]:
    """Attachments are content-addressed: another customer may have sent the very same file; theirs stays."""
    if not keys:
        return set()
    mentions = Q()
    for key in keys:
        mentions |= Q(attachments_text__contains=key)
    others = (Message.objects.exclude(conversation__in=erased_conversations).filter(is_erased=False)
              .annotate(attachments_text=Cast("attachments", TextField())).filter(mentions))
    return _attachment_blob_keys(others) & keys


def _delete_conversation_blobs(*, archive_keys: list[str], attachment_keys: set[str],
                               erased_conversations: list[int]) -> None:
    # An archived message's attachments are listed only in its archive: read them before deleting it.
    keys = set(attachment_keys)
    for key in archive_keys:
        try:
            document = archive_document(key)
        except (FileNotFoundError, ApplicationError):
            continue  # gone already, or under a key rotated out: deleted below all the same
        for message in document.get("messages", []):
            keys |= {a["blob_key"] for a in (message.get("attachments") or []) if isinstance(a, dict) and a.get("blob_key")}
    for key in sorted(keys - _blob_keys_still_used(keys, erased_conversations)):
        blob_delete(key)
    for key in archive_keys:
        blob_delete(key)


def conversations_export_customer(export: Export) -> tuple[dict[str, list], dict[str, int]]:
    """Her conversations with every message, including the content of archived ones (from the archive)."""
    conversations = list(Conversation.objects.filter(
        Q(customer__in=export.customers) | _any_of("messages__from_address__iexact", export.emails))
        .distinct().order_by("pk"))
    export.conversation_ids = [c.pk for c in conversations]
    documents = [_exported(c) for c in conversations]
    return {"conversations": documents}, {"conversations": len(documents),
                                          "messages": sum(len(c["messages"]) for c in documents)}


def _exported(conversation: Conversation) -> dict:
    messages = [{**{name: getattr(m, name) for name in _MESSAGE_FIELDS}, "id": m.pk,
                 "attachments": [{k: a.get(k) for k in ("name", "size", "content_type")}
                                 for a in (m.attachments or []) if isinstance(a, dict)]}
                for m in Message.objects.filter(conversation=conversation).order_by("sent_at", "pk")]
    if conversation.is_archived and conversation.archive_blob_key:
        # Archived: the rows are blanked, the content is in the (encrypted) archive, which we still hold.
        archived = {m["id"]: m for m in archive_document(conversation.archive_blob_key).get("messages", [])}
        for message in messages:
            held = archived.get(message["id"], {})
            message.update({name: held[name] for name in _MESSAGE_FIELDS if name in held})
            message["attachments"] = [{k: a.get(k) for k in ("name", "size", "content_type")}
                                      for a in held.get("attachments") or [] if isinstance(a, dict)]
    return {"id": conversation.pk, "channel": conversation.channel, "status": conversation.status,
            "created_at": conversation.created_at, "archived": conversation.is_archived, "messages": messages}
