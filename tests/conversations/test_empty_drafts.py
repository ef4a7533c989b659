"""A draft with an empty (or whitespace-only) body is never approved as it stands: there is nothing to send."""

from __future__ import annotations

import pytest

from conversations.models import Approval, Draft
from conversations.services.approvals import draft_approve, draft_edit_and_approve
from omnichannel.errors import ApplicationError
from tests.builders import make_draft

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("body", ["", "  \n\t \n"])
def test_an_empty_draft_cannot_be_approved_as_it_stands(agent_user, body):
    draft = make_draft(body=body)
    with pytest.raises(ApplicationError, match="is empty"):
        draft_approve(draft_id=draft.pk, acting_user=agent_user)
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.PENDING
    assert not Approval.objects.filter(draft=draft).exists()
    # The agent may still write the reply: what goes out is their text, not the empty draft.
    draft_edit_and_approve(draft_id=draft.pk, acting_user=agent_user, final_text="Hi Ada, it ships today.")
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.APPROVED


def test_the_review_page_tells_the_agent_why_an_empty_draft_was_not_approved(client, agent_user):
    draft = make_draft(body=" ")
    client.force_login(agent_user)
    response = client.post(f"/admin/conversations/draft/{draft.pk}/decide/", {"action": "approve"}, follow=True)
    assert "is empty: there is nothing to send" in response.content.decode()
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.PENDING
