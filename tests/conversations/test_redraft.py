"""Reject is not a dead end: "reject and redraft" turns the agent's reason into the drafter's
instruction, written in the agent's own style; it happens once per rejection."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from assistants.models import StyleProfile
from assistants.services import draft_generate
from conversations.models import Draft, Message
from conversations.services.approvals import draft_reject_and_redraft
from integrations.demo import seed_demo
from omnichannel.models import AuditLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def grace():
    user = get_user_model().objects.create_user(username="grace", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Agents"))
    StyleProfile.objects.create(name="Grace", owner_user=user,
                                tone_config={"greeting": "Hello {first_name}!", "sign_off": "Cheers,\nGrace"})
    return user


def _demo_draft() -> Draft:
    seed_demo()
    message = Message.objects.get(subject="Where is my tent?")
    return draft_generate(message_id=message.pk).draft


def test_reject_and_redraft_makes_one_new_pending_draft_in_the_agents_style(grace, django_capture_on_commit_callbacks):
    rejected = _demo_draft()
    with django_capture_on_commit_callbacks(execute=True):
        draft_reject_and_redraft(draft_id=rejected.pk, acting_user=grace,
                                 reason="She needs it by Saturday: say whether it arrives in time")
    rejected.refresh_from_db()
    assert rejected.status == Draft.Status.REJECTED
    redraft = Draft.objects.get(replaces=rejected)
    assert redraft.status == Draft.Status.PENDING and redraft.reply_to_id == rejected.reply_to_id
    assert redraft.body.startswith("Hello Ada!") and redraft.body.rstrip().endswith("Grace")
    # The offline drafter cannot follow free text: the agent is told to check it (low confidence).
    assert redraft.confidence < 0.5
    assert AuditLog.objects.filter(event_type="draft.redraft_requested", object_id=str(rejected.pk)).exists()


def test_a_redelivered_redraft_task_makes_nothing_more(grace, django_capture_on_commit_callbacks):
    rejected = _demo_draft()
    with django_capture_on_commit_callbacks(execute=True):
        draft_reject_and_redraft(draft_id=rejected.pk, acting_user=grace, reason="Wrong order quoted")
    assert draft_generate(message_id=rejected.reply_to_id, redraft_of=rejected.pk, agent_user_id=grace.pk) is None
    assert Draft.objects.filter(reply_to_id=rejected.reply_to_id).count() == 2
    skipped = AuditLog.objects.filter(event_type="draft.skipped").order_by("-pk").first()
    assert skipped.payload["reason"] == "redraft_not_due"


def test_a_plain_reject_asks_for_nothing(grace, django_capture_on_commit_callbacks):
    from conversations.services.approvals import draft_reject

    rejected = _demo_draft()
    with django_capture_on_commit_callbacks(execute=True):
        draft_reject(draft_id=rejected.pk, acting_user=grace, reason="Not needed")
    assert not Draft.objects.filter(replaces=rejected).exists()
