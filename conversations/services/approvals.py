"""Agents' decisions on drafts. One decision per draft; the approved text is sent after commit."""

from __future__ import annotations

import difflib

from django.db import transaction
from django.utils import timezone

from conversations.models import Approval, Draft
from omnichannel.audit import audit_log_write
from omnichannel.errors import ApplicationError, StateConflict
from omnichannel.jobs import enqueue


def unified_diff(before: str, after: str) -> str:
    # Both end in a newline, so appending text does not show the unchanged last line as removed and added.
    before, after = before.rstrip("\n") + "\n", after.rstrip("\n") + "\n"
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), fromfile="draft", tofile="final", n=2
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _lock_pending(draft_id: int) -> Draft:
    """Lock the draft and insist it is still pending: the second of two agents gets a clear 409."""
    try:
        draft = Draft.objects.select_for_update().get(pk=draft_id)
    except Draft.DoesNotExist:
        raise ApplicationError(f"Draft {draft_id} does not exist.") from None
    if draft.status != Draft.Status.PENDING:
        raise StateConflict(
            f"Draft {draft_id} is already {draft.get_status_display().lower()}; it cannot be decided again.",
            extra={"status": draft.status},
        )
    return draft


def _decide(*, draft_id: int, acting_user, action: str, final_text: str | None, reason: str = "") -> Approval:
    draft = _lock_pending(draft_id)
    if final_text is None:  # approved as is
        if not draft.body.strip():
            raise ApplicationError(f"Draft {draft_id} is empty: there is nothing to send. Write the reply and save "
                                   "your edits, or reject the draft.")
        final_text = draft.body
    new_status = Draft.Status.REJECTED if action == Approval.Action.REJECT else Draft.Status.APPROVED
    approval = Approval.objects.create(
        draft=draft, approved_by=acting_user, action=action, final_text=final_text,
        diff=unified_diff(draft.body, final_text) if action == Approval.Action.EDIT else "",
        reason=reason,
    )
    draft.status = new_status
    draft.decided_at = timezone.now()
    draft.save(update_fields=["status", "decided_at", "updated_at"])
    audit_log_write(
        event_type=f"draft.{action}",
        payload={"draft_id": draft.pk, "approval_id": approval.pk, "conversation_id": draft.conversation_id,
                 "diff_lines": approval.diff.count("\n"), "reason": reason},
        acting_user=acting_user, obj=draft,
    )
    if new_status == Draft.Status.APPROVED:
        enqueue("send_draft", draft.pk)
        enqueue("index_approved_reply", approval.pk)  # the assistant learns from what agents send
    return approval


@transaction.atomic
def draft_approve(*, draft_id: int, acting_user) -> Approval:
    return _decide(draft_id=draft_id, acting_user=acting_user, action=Approval.Action.APPROVE, final_text=None)


@transaction.atomic
def draft_edit_and_approve(*, draft_id: int, final_text: str, acting_user) -> Approval:
    if not final_text or not final_text.strip():
        raise ApplicationError("The edited reply is empty; write a reply or reject the draft.")
    return _decide(draft_id=draft_id, acting_user=acting_user, action=Approval.Action.EDIT, final_text=final_text)


@transaction.atomic
def draft_reject(*, draft_id: int, reason: str, acting_user) -> Approval:
    if not reason or not reason.strip():
        raise ApplicationError("Say why the draft is rejected (a reason is required).")
    return _decide(draft_id=draft_id, acting_user=acting_user, action=Approval.Action.REJECT, final_text="",
                   reason=reason.strip())
