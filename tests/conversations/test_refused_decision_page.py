"""A decision the server refuses comes back as the review page holding what the agent typed, with the
refusal beside the field it concerns: not a redirect that reloads the draft and drops the edits."""

from __future__ import annotations

import html

import pytest

from conversations.models import Approval, Draft
from tests.builders import make_draft, make_inbound_message

pytestmark = pytest.mark.django_db

REWRITE = "Hello Ada,\nYour order #1001 went out with DHL this morning: JD014600006281234567.\nBest,\nGrace"


def _decide(client, draft, data):
    return client.post(f"/admin/conversations/draft/{draft.pk}/decide/", data)


def test_a_reason_of_only_spaces_is_refused_beside_the_reason_and_the_rewritten_reply_stays(client, agent_user):
    draft = make_draft(message=make_inbound_message(email="ada@example.com", body="Where is my parcel?"))
    client.force_login(agent_user)
    # The browser sends the box's text with CRLF line ends.
    response = _decide(client, draft, {"action": "reject", "reason": "   ",
                                       "kept_final_text": REWRITE.replace("\n", "\r\n")})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="reason-error"' in page and "a reason is required" in page
    assert f">{html.escape(REWRITE)}</textarea>" in page  # the box holds the agent's edit, not the draft
    assert f'data-original="{html.escape(draft.body)}"' in page  # so leaving still warns
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.PENDING
    assert not Approval.objects.filter(draft=draft).exists()


def test_without_the_page_script_the_box_keeps_the_draft_text(client, agent_user):
    draft = make_draft()
    client.force_login(agent_user)
    response = _decide(client, draft, {"action": "reject", "reason": " ", "kept_final_text": ""})
    page = response.content.decode()
    assert response.status_code == 400
    assert f">{html.escape(draft.body)}</textarea>" in page and 'data-original="' not in page


def test_an_empty_edit_is_refused_beside_the_reply_box(client, agent_user):
    draft = make_draft()
    client.force_login(agent_user)
    response = _decide(client, draft, {"action": "edit", "final_text": "  \r\n  "})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="final-text-error"' in page and "The edited reply is empty" in page
    assert 'id="reason-error"' not in page


def test_an_empty_own_reply_is_refused_beside_it_with_the_box_open_and_the_draft_edit_kept(client, agent_user):
    draft = make_draft()
    client.force_login(agent_user)
    response = _decide(client, draft, {"action": "write", "own_text": "\t", "kept_final_text": REWRITE})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="own-text-error"' in page and "The reply is empty" in page
    assert '<details id="write-own" open>' in page
    assert f">{html.escape(REWRITE)}</textarea>" in page
