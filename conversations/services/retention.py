"""Retention: closed conversations older than RETENTION_MONTHS are archived, then their PII erased.

Each conversation is exported with its messages, drafts and approvals as one JSON document in
the blob store (`archives/conversations/<id>.json`), then blanked in place: ids, counts and
metrics stay. `conversation_restore` puts the archived content back from the blob.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from conversations.models import Approval, Conversation, Draft, Message
from omnichannel.audit import audit_log_write
from omnichannel.blobstore import blob_get, blob_put_named
from omnichannel.errors import ApplicationError
from omnichannel.pii import approvals_blank, approvals_restore, pii_hash

_MESSAGE_PII = ["subject", "body", "body_html", "from_address", "from_name", "to_addresses", "cc_addresses",
                "attachments", "raw_payload", "headers"]
# Archives written before a field was kept on messages restore it empty.
_MESSAGE_PII_DEFAULTS = {"headers": {}}


def conversations_due_for_archive(*, now=None) -> list[int]:
    cutoff = (now or timezone.now()) - timedelta(days=30 * settings.RETENTION_MONTHS)
    return list(Conversation.objects.filter(status=Conversation.Status.CLOSED, is_archived=False,
                                            closed_at__lt=cutoff).order_by("pk").values_list("pk", flat=True))


def _document(conversation: Conversation) -> dict:
    drafts = list(Draft.objects.filter(conversation=conversation).order_by("pk"))
    return {
        "version": 1,
        "conversation": {"id": conversation.pk, "subject": conversation.subject},
        "messages": [{"id": m.pk, **{f: getattr(m, f) for f in _MESSAGE_PII}}
                     for m in Message.objects.filter(conversation=conversation).order_by("pk")],
        "drafts": [{"id": d.pk, "body": d.body, "last_send_error": d.last_send_error} for d in drafts],
        "approvals": [model_to_dict(a, fields=["id", "final_text", "diff", "reason"])
                      for a in Approval.objects.filter(draft__in=drafts).order_by("pk")],
    }


@transaction.atomic
def conversation_archive(*, conversation_id: int) -> str:
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    if conversation.is_archived:
        return conversation.archive_blob_key
    document = _document(conversation)
    key = blob_put_named(f"archives/conversations/{conversation.pk}.json",
                         json.dumps(document, cls=DjangoJSONEncoder).encode())
    for message in Message.objects.filter(conversation=conversation):
        Message.objects.filter(pk=message.pk).update(
            subject="", body="", body_html="", from_name="", to_addresses=[], cc_addresses=[], attachments=[],
            raw_payload={}, headers={}, from_address=pii_hash(message.from_address) if message.from_address else "",
            is_erased=True)
    draft_ids = [d["id"] for d in document["drafts"]]
    Draft.objects.filter(pk__in=draft_ids).update(body="", last_send_error="")
    approvals_blank(draft_ids)
    Conversation.objects.filter(pk=conversation.pk).update(subject="", is_archived=True, archive_blob_key=key)
    audit_log_write(event_type="conversation.archived", integration="retention", obj=conversation,
                    payload={"messages": len(document["messages"]), "drafts": len(draft_ids), "blob_key": key})
    return key


@transaction.atomic
def conversation_restore(*, conversation_id: int, acting_user=None) -> int:
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    if not conversation.is_archived or not conversation.archive_blob_key:
        raise ApplicationError(f"conversation {conversation_id} is not archived")
    document = json.loads(blob_get(conversation.archive_blob_key))
    for message in document["messages"]:
        Message.objects.filter(pk=message["id"]).update(
            **{f: message.get(f, _MESSAGE_PII_DEFAULTS.get(f)) for f in _MESSAGE_PII}, is_erased=False)
    for draft in document["drafts"]:
        Draft.objects.filter(pk=draft["id"]).update(body=draft["body"], last_send_error=draft["last_send_error"])
    approvals_restore(document["approvals"])
    Conversation.objects.filter(pk=conversation.pk).update(subject=document["conversation"]["subject"],
                                                           is_archived=False)
    audit_log_write(event_type="conversation.restored", acting_user=acting_user, integration=None if acting_user
                    else "retention", obj=conversation, payload={"messages": len(document["messages"])})
    return len(document["messages"])


def conversations_archive_due() -> int:
    done = 0
    for conversation_id in conversations_due_for_archive():
        conversation_archive(conversation_id=conversation_id)
        done += 1
    return done
