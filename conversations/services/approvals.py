"""Agents' decisions on drafts. One decision per draft; the approved text is sent after commit."""

from __future__ import annotations

import difflib
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from conversations.models import Approval, Draft
from omnichannel.audit import audit_log_write
from omnichannel.errors import ApplicationError, StateConflict
from omnichannel.jobs import enqueue, enqueue_later
from omnichannel.task_names import TaskName


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
    undo_seconds = settings.SEND_UNDO_SECONDS if new_status == Draft.Status.APPROVED else 0
    draft.send_after = draft.decided_at + timedelta(seconds=undo_seconds) if undo_seconds else None
    draft.save(update_fields=["status", "decided_at", "send_after", "updated_at"])
    audit_log_write(
        event_type=f"draft.{action}",
        payload={"draft_id": draft.pk, "approval_id": approval.pk, "conversation_id": draft.conversation_id,
                 "diff_lines": approval.diff.count("\n"), "reason": reason},
        acting_user=acting_user, obj=draft,
    )
    if new_status == Draft.Status.APPROVED:
        enqueue_later(TaskName.SEND_DRAFT, draft.pk, countdown=undo_seconds)  # the task itself refuses to send early
        enqueue_later(TaskName.INDEX_APPROVED_REPLY, approval.pk, countdown=undo_seconds)  # learn only from what is sent
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
def draft_approve_text(*, draft_id: int, final_text: str, acting_user) -> Approval:
    """Approve what the agent has in front of them: the draft as is when the text is unchanged
    (no empty diff), an edit with its diff otherwise. The rule for the admin and the API alike."""
    drafted = Draft.objects.filter(pk=draft_id).values_list("body", flat=True).first()
    if drafted is None:
        raise ApplicationError(f"Draft {draft_id} does not exist.")
    final_text = final_text.replace("\r\n", "\n")
    if final_text.strip() == drafted.strip():
        return draft_approve(draft_id=draft_id, acting_user=acting_user)
    return draft_edit_and_approve(draft_id=draft_id, final_text=final_text, acting_user=acting_user)


@transaction.atomic
def draft_reject(*, draft_id: int, reason: str, acting_user) -> Approval:
    if not reason or not reason.strip():
        raise ApplicationError("Say why the draft is rejected (a reason is required).")
    return _decide(draft_id=draft_id, acting_user=acting_user, action=Approval.Action.REJECT, final_text="",
                   reason=reason.strip())


@transaction.atomic
def draft_undo(*, draft_id: int, acting_user) -> Draft | None:
    """Take back an approval inside its undo window: the approved draft becomes `undone` and a pending
    copy (with `replaces` pointing at it) goes back to review. Refused once sending has started.

    Returns the new pending draft, or None when the conversation has meanwhile got a newer pending
    draft (a newer customer message): that one is the draft to review, and the send is still stopped.
    """
    now = timezone.now()
    draft = Draft.objects.select_for_update().filter(pk=draft_id).first()
    if draft is None:
        raise ApplicationError(f"Draft {draft_id} does not exist.")
    if (draft.status != Draft.Status.APPROVED or draft.sent_message_id or draft.sending_started_at
            or draft.send_after is None or draft.send_after <= now):
        raise StateConflict(f"Draft {draft_id} can no longer be undone: it is {draft.get_status_display().lower()} "
                            "and its undo window has closed.", extra={"status": draft.status})
    draft.status = Draft.Status.UNDONE
    draft.save(update_fields=["status", "updated_at"])
    copy = None
    if not Draft.objects.filter(conversation_id=draft.conversation_id, status=Draft.Status.PENDING).exists():
        copy = Draft.objects.create(
            conversation_id=draft.conversation_id, reply_to_id=draft.reply_to_id, model_run_id=draft.model_run_id,
            body=draft.body, confidence=draft.confidence, intent=draft.intent, origin=draft.origin, replaces=draft,
            waiting_since=draft.waiting_since)
        copy.corrections_applied.set(draft.corrections_applied.all())
    audit_log_write(event_type="draft.undone", payload={"draft_id": draft.pk, "pending_draft_id": copy.pk if copy else None,
                                                        "conversation_id": draft.conversation_id},
                    acting_user=acting_user, obj=draft)
    return copy


@transaction.atomic
def draft_write_own(*, draft_id: int, text: str, acting_user) -> Approval:
    """The agent writes the reply themselves instead of the draft (pending or rejected): a new draft
    of origin `agent`, approved with a `written` decision, sent through the same pipeline (claim,
    undo window, send, outbound message). A pending draft it replaces is superseded."""
    if not text or not text.strip():
        raise ApplicationError("The reply is empty; write the reply or close the conversation.")
    draft = Draft.objects.select_for_update().filter(pk=draft_id).first()
    if draft is None:
        raise ApplicationError(f"Draft {draft_id} does not exist.")
    if draft.status not in (Draft.Status.PENDING, Draft.Status.REJECTED):
        raise StateConflict(f"Draft {draft_id} is already {draft.get_status_display().lower()}; "
                            "its conversation has an answer on its way.", extra={"status": draft.status})
    now = timezone.now()
    if draft.status == Draft.Status.PENDING:
        draft.status = Draft.Status.SUPERSEDED
        draft.save(update_fields=["status", "updated_at"])
    undo_seconds = settings.SEND_UNDO_SECONDS
    own = Draft.objects.create(
        conversation_id=draft.conversation_id, reply_to_id=draft.reply_to_id, body=text, confidence=1.0,
        intent=draft.intent, status=Draft.Status.APPROVED, origin=Draft.Origin.AGENT, decided_at=now,
        send_after=now + timedelta(seconds=undo_seconds) if undo_seconds else None, waiting_since=draft.waiting_since)
    approval = Approval.objects.create(draft=own, approved_by=acting_user, action=Approval.Action.WRITTEN,
                                       final_text=text)
    audit_log_write(event_type="draft.written", acting_user=acting_user, obj=own, payload={
        "draft_id": own.pk, "instead_of": draft.pk, "approval_id": approval.pk,
        "conversation_id": draft.conversation_id})
    enqueue_later(TaskName.SEND_DRAFT, own.pk, countdown=undo_seconds)
    enqueue_later(TaskName.INDEX_APPROVED_REPLY, approval.pk, countdown=undo_seconds)
    return approval


@transaction.atomic
def draft_reject_and_redraft(*, draft_id: int, reason: str, acting_user) -> Approval:
    """Reject with a reason and ask the assistant for a new draft: the reason is the drafter's
    instruction and the agent's own style profile writes it (their brand default otherwise)."""
    approval = draft_reject(draft_id=draft_id, reason=reason, acting_user=acting_user)
    draft = approval.draft
    if draft.reply_to_id is None:
        raise ApplicationError(f"Draft {draft_id} answers no message; there is nothing to redraft.")
    audit_log_write(event_type="draft.redraft_requested", acting_user=acting_user, obj=draft,
                    payload={"draft_id": draft.pk, "message_id": draft.reply_to_id, "instruction": approval.reason})
    enqueue(TaskName.GENERATE_DRAFT, draft.reply_to_id, redraft_of=draft.pk, agent_user_id=acting_user.pk)
    return approval
