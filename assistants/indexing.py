"""Approved replies into the REPLIES collection: how the assistant learns from agents.

The document is the customer's question (what a new email will resemble); the reply the
agent sent, and whether they edited it, ride along as metadata. Ids are the approval ids, so
re-indexing (or `rehydrate_chroma`) never duplicates.

An example is shown to the drafter for OTHER customers' emails, so the question and the reply are
scrubbed before they are stored (omnichannel/pii_scrub.py): the names, addresses, phones, emails,
order and tracking numbers of the customer it was written to, and of any customer we hold, become
placeholders. `context.py` scrubs them again when it reads them (examples indexed before this).
"""

from __future__ import annotations

from assistants import vectorstore
from conversations.models import Approval
from customers.selectors import customer_known_facts, customers_known_facts
from omnichannel.pii_scrub import KnownFacts, pii_scrub


def _item(approval: Approval, everyone: KnownFacts | None = None) -> vectorstore.IndexItem | None:
    message = approval.draft.reply_to
    if message is None or message.is_erased or not approval.final_text.strip():
        return None
    known = (everyone or customers_known_facts()) | customer_known_facts(
        customer_id=approval.draft.conversation.customer_id, email=message.from_address, name=message.from_name)
    question = pii_scrub(f"{message.subject}\n{message.body or message.body_html}"[:4000], known=known)
    return vectorstore.IndexItem(
        id=f"approval-{approval.pk}", text=question,
        metadata={"approval_id": approval.pk, "draft_id": approval.draft_id, "intent": approval.draft.intent,
                  "edited": approval.action in (Approval.Action.EDIT, Approval.Action.WRITTEN),
                  "reply": pii_scrub(approval.final_text[:4000], known=known), "scrubbed": True},
    )


def _approved():
    # An approval taken back in its undo window (the draft is `undone`) teaches nothing.
    decisions_that_send = [Approval.Action.APPROVE, Approval.Action.EDIT, Approval.Action.WRITTEN]
    return (Approval.objects.filter(action__in=decisions_that_send)
            .exclude(draft__status="undone").select_related("draft", "draft__reply_to", "draft__conversation"))


def approved_reply_index(*, approval_id: int) -> bool:
    approval = _approved().filter(pk=approval_id).first()
    item = _item(approval) if approval else None
    if item is None:
        return False
    vectorstore.index_upsert(vectorstore.REPLIES, [item])
    return True


def approved_replies_reindex(batch_size: int = 500) -> int:
    """Rebuild the REPLIES collection from Postgres (the system of record)."""
    vectorstore.index_reset(vectorstore.REPLIES)
    total, batch, everyone = 0, [], customers_known_facts()
    for approval in _approved().order_by("pk").iterator(chunk_size=batch_size):
        item = _item(approval, everyone)
        if item:
            batch.append(item)
        if len(batch) >= batch_size:
            total += vectorstore.index_upsert(vectorstore.REPLIES, batch)
            batch = []
    return total + vectorstore.index_upsert(vectorstore.REPLIES, batch)


def approved_replies_forget(*, approval_ids: list[int], compact: bool = True) -> int:
    vectorstore.index_delete(vectorstore.REPLIES, [f"approval-{pk}" for pk in approval_ids])
    if compact:
        vectorstore.index_compact(vectorstore.REPLIES)
    return len(approval_ids)
