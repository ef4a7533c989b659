"""Reads of the agents' workspace."""

from __future__ import annotations

from django.db.models import Count, Exists, Min, OuterRef, Q

from conversations.models import Approval, Conversation, Draft
from customers.selectors import OpenDraft


def workspace_counts() -> dict:
    """What an agent's home shows: the queue by confidence, failed sends, conversations awaiting a
    reply with no draft, and the longest a customer has waited. Three aggregate queries."""
    pending = Draft.objects.filter(status=Draft.Status.PENDING).aggregate(
        total=Count("pk"), low=Count("pk", filter=Q(confidence__lt=0.5)),
        medium=Count("pk", filter=Q(confidence__gte=0.5, confidence__lt=0.8)),
        high=Count("pk", filter=Q(confidence__gte=0.8)), oldest_wait=Min("waiting_since"))
    failed = Draft.objects.filter(status=Draft.Status.APPROVED, sent_message__isnull=True).exclude(
        last_send_error="").count()
    has_pending = Draft.objects.filter(conversation=OuterRef("pk"), status=Draft.Status.PENDING)
    awaiting = (Conversation.objects.filter(status=Conversation.Status.OPEN, waiting_since__isnull=False)
                .exclude(Exists(has_pending)).aggregate(count=Count("pk"), oldest=Min("waiting_since")))
    waits = [w for w in (pending["oldest_wait"], awaiting["oldest"]) if w is not None]
    return {**pending, "failed_sends": failed, "awaiting_reply": awaiting["count"],
            "oldest_wait": min(waits) if waits else None}


def draft_rejection_reason(*, draft_id: int) -> str:
    """Why an agent rejected a draft: for a redraft, the instruction to the drafter."""
    return (Approval.objects.filter(draft_id=draft_id, action=Approval.Action.REJECT)
            .values_list("reason", flat=True).first() or "")


def guest_open_drafts(email: str) -> list[OpenDraft]:
    """A guest's pending drafts, for her customer summary (registered with customers/parts.py). A guest
    has no customer row to hang conversations on: her threads are those she wrote in."""
    drafts = (Draft.objects.filter(status=Draft.Status.PENDING, conversation__customer__isnull=True,
                                   conversation__messages__from_address__iexact=email)
              .distinct().order_by("created_at", "id").values("id", "conversation_id", "intent", "confidence", "created_at"))
    return [OpenDraft(**{**d, "created_at": d["created_at"].isoformat()}) for d in drafts]
