"""An approved reply waits SEND_UNDO_SECONDS before it may go out; within that time the agent can take it back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from conversations.models import Approval, Draft
from conversations.services.approvals import draft_approve, draft_edit_and_approve, draft_undo
from conversations.services.sending import draft_send_claim
from conversations.tasks import send_draft
from omnichannel.errors import StateConflict
from omnichannel.models import AuditLog
from tests.builders import make_draft, task_run_eagerly

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    user = get_user_model().objects.create_user(username="grace", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Agents"))
    return user


def test_an_approved_reply_is_not_sent_inside_its_undo_window(settings, agent):
    settings.SEND_UNDO_SECONDS = 20
    draft = make_draft()
    draft_approve(draft_id=draft.pk, acting_user=agent)
    draft.refresh_from_db()
    assert draft.status == Draft.Status.APPROVED
    assert timedelta(seconds=19) < draft.send_after - draft.decided_at <= timedelta(seconds=20)
    assert draft_send_claim(draft_id=draft.pk) is None  # the server refuses to send early
    assert task_run_eagerly(send_draft, draft.pk) == "waiting for the undo window"  # inline: nothing queued
    draft.refresh_from_db()
    assert draft.send_attempts == 0 and draft.sent_message_id is None


def test_once_the_window_has_passed_the_reply_can_be_claimed(settings, agent):
    settings.SEND_UNDO_SECONDS = 20
    draft = make_draft()
    draft_approve(draft_id=draft.pk, acting_user=agent)
    Draft.objects.filter(pk=draft.pk).update(send_after=timezone.now() - timedelta(seconds=1))
    assert draft_send_claim(draft_id=draft.pk) is not None


def test_undo_within_the_window_puts_the_draft_back_in_review_with_an_audit_row(settings, agent):
    settings.SEND_UNDO_SECONDS = 20
    draft = make_draft(body="Hello Ada,\nYour order shipped.\nBest")
    draft_edit_and_approve(draft_id=draft.pk, acting_user=agent, final_text="Hello Ada,\nIt shipped today.\nBest")
    pending = draft_undo(draft_id=draft.pk, acting_user=agent)
    draft.refresh_from_db()
    assert draft.status == Draft.Status.UNDONE
    assert pending.status == Draft.Status.PENDING and pending.replaces_id == draft.pk
    assert pending.body == draft.body and pending.reply_to_id == draft.reply_to_id
    assert AuditLog.objects.filter(event_type="draft.undone", object_id=str(draft.pk)).exists()
    # The undone approval can never be sent, even by a task already queued for it.
    assert task_run_eagerly(send_draft, draft.pk) == "nothing to send"
    # The pending copy is decided like any draft.
    draft_approve(draft_id=pending.pk, acting_user=agent)
    assert Approval.objects.filter(draft=pending).count() == 1


def test_undo_after_the_window_or_after_sending_started_is_refused(settings, agent):
    settings.SEND_UNDO_SECONDS = 20
    late = make_draft()
    draft_approve(draft_id=late.pk, acting_user=agent)
    Draft.objects.filter(pk=late.pk).update(send_after=timezone.now() - timedelta(seconds=1))
    with pytest.raises(StateConflict):
        draft_undo(draft_id=late.pk, acting_user=agent)
    sending = make_draft()
    draft_approve(draft_id=sending.pk, acting_user=agent)
    Draft.objects.filter(pk=sending.pk).update(sending_started_at=timezone.now())
    with pytest.raises(StateConflict):
        draft_undo(draft_id=sending.pk, acting_user=agent)
    pending = make_draft()
    with pytest.raises(StateConflict):
        draft_undo(draft_id=pending.pk, acting_user=agent)


def test_with_no_window_an_approval_sends_at_once_and_cannot_be_undone(settings, agent):
    settings.SEND_UNDO_SECONDS = 0
    draft = make_draft()
    draft_approve(draft_id=draft.pk, acting_user=agent)
    draft.refresh_from_db()
    assert draft.send_after is None
    with pytest.raises(StateConflict):
        draft_undo(draft_id=draft.pk, acting_user=agent)


def test_the_api_undoes_and_answers_409_when_too_late(settings, agent, client):
    settings.SEND_UNDO_SECONDS = 20
    client.force_login(agent)
    draft = make_draft()
    assert client.post(f"/api/drafts/{draft.pk}/approve/").status_code == 200
    response = client.post(f"/api/drafts/{draft.pk}/undo/")
    assert response.status_code == 200 and response.json()["status"] == "pending"
    assert response.json()["replaces"] == draft.pk
    assert client.post(f"/api/drafts/{draft.pk}/undo/").status_code == 409


def test_an_agent_writes_the_reply_themselves_and_it_goes_through_the_same_pipeline(settings, agent):
    settings.SEND_UNDO_SECONDS = 20
    draft = make_draft(body="Your order shipped.")
    from conversations.services.approvals import draft_write_own

    approval = draft_write_own(draft_id=draft.pk, acting_user=agent, text="Hi Ada, I called the courier: tomorrow.")
    draft.refresh_from_db()
    own = approval.draft
    assert draft.status == Draft.Status.SUPERSEDED
    assert own.origin == Draft.Origin.AGENT and own.status == Draft.Status.APPROVED
    assert approval.action == Approval.Action.WRITTEN and approval.final_text.startswith("Hi Ada")
    assert own.reply_to_id == draft.reply_to_id and own.send_after is not None
    assert draft_send_claim(draft_id=own.pk) is None  # the undo window holds for written replies too
    assert AuditLog.objects.filter(event_type="draft.written", object_id=str(own.pk)).exists()
    # Undone, it comes back for review with the agent's words in the box (the admin restores them).
    back = draft_undo(draft_id=own.pk, acting_user=agent)
    assert back.status == Draft.Status.PENDING and back.origin == Draft.Origin.AGENT


def test_after_a_reject_the_agent_can_still_write_the_reply(settings, agent):
    from conversations.services.approvals import draft_reject, draft_write_own

    settings.SEND_UNDO_SECONDS = 0
    draft = make_draft()
    draft_reject(draft_id=draft.pk, acting_user=agent, reason="Quotes the wrong order")
    approval = draft_write_own(draft_id=draft.pk, acting_user=agent, text="Hi Ada, your order #1002 ships Monday.")
    assert approval.draft.status in (Draft.Status.APPROVED, Draft.Status.SENT)
    with pytest.raises(StateConflict):
        draft_write_own(draft_id=approval.draft_id, acting_user=agent, text="again")


def test_saving_unchanged_text_is_an_approval_as_drafted_in_the_api_as_in_the_admin(agent, client):
    client.force_login(agent)
    draft = make_draft(body="Hello Ada,\nYour order shipped.\nBest")
    response = client.post(f"/api/drafts/{draft.pk}/edit/", {"final_text": "Hello Ada,\r\nYour order shipped.\r\nBest\n"},
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["action"] == "approve" and response.json()["diff"] == ""
