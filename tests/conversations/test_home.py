"""The admin's landing page is an agent's home: what waits, with links that work for who is looking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conversations.models import Draft
from tests.builders import logged_in_client, make_draft, make_inbound_message

pytestmark = pytest.mark.django_db


def _client(group: str, name: str) -> Client:
    return logged_in_client(group, name)


def test_an_agent_lands_on_their_counts_with_links_to_each_list():
    make_draft(confidence=0.3, message=make_inbound_message(email="a@example.com",
                                                            sent_at=timezone.now() - timedelta(days=3)))
    recent = timezone.now() - timedelta(hours=1)
    make_draft(confidence=0.9, message=make_inbound_message(email="b@example.com", sent_at=recent))
    failed = make_draft(confidence=0.9, message=make_inbound_message(email="c@example.com", sent_at=recent))
    Draft.objects.filter(pk=failed.pk).update(status="approved", last_send_error="ZohoError: 400")
    make_inbound_message(email="nodraft@example.com", sent_at=recent)
    body = _client("Agents", "grace").get("/admin/").content.decode()
    assert 'id="workspace-home"' in body
    assert "<strong>2</strong>" in body  # two drafts to review
    assert "1 low" in body and "1 high" in body
    assert "?send=failed" in body and '<strong style="color: #ba2121;">1</strong>' in body
    assert "?awaiting=reply" in body
    assert "3\xa0days" in body  # the longest wait


def test_links_a_user_cannot_use_are_not_shown():
    agent_page = _client("Agents", "grace").get("/admin/faq/correction/")
    assert agent_page.status_code in (200, 403)
    if agent_page.status_code == 200:
        assert "correction-candidates-link" not in agent_page.content.decode()
    ops_page = _client("Ops", "olga").get("/admin/faq/correction/").content.decode()
    assert "correction-candidates-link" in ops_page


def test_view_site_leads_somewhere_real():
    client = _client("Agents", "grace")
    body = client.get("/admin/").content.decode()
    assert 'href="/faq/"' in body
    assert client.get("/faq/").status_code == 200


def test_ops_read_weekly_quality_per_confidence_bucket_and_agents_cannot():
    from django.contrib.auth import get_user_model as users

    from conversations.services.approvals import draft_approve, draft_edit_and_approve, draft_reject

    ops = _client("Ops", "olga")
    agent = users().objects.create_user(username="decider", password="pw", is_staff=True)
    high = [make_draft(confidence=0.9, message=make_inbound_message(email=f"h{i}@example.com")) for i in range(4)]
    low = [make_draft(confidence=0.2, message=make_inbound_message(email=f"l{i}@example.com")) for i in range(2)]
    for d in high[:3]:
        draft_approve(draft_id=d.pk, acting_user=agent)
    draft_edit_and_approve(draft_id=high[3].pk, acting_user=agent, final_text="Edited by hand")
    for d in low:
        draft_reject(draft_id=d.pk, acting_user=agent, reason="Wrong facts")
    body = ops.get("/admin/assistants/modelrun/quality/").content.decode()
    week = body.split('data-bucket="high"')[1].split("</tr>")[0]
    assert ">75%<" in week and ">25%<" in week  # three approved, one edited
    assert ">100%<" in body.split('data-bucket="low"')[1].split("</tr>")[0]  # both rejected
    assert 'id="model-quality-link"' in ops.get("/admin/assistants/modelrun/").content.decode()
    assert _client("Agents", "grace").get("/admin/assistants/modelrun/quality/").status_code == 403


def test_a_bucket_with_nothing_decided_yet_shows_no_rate_rather_than_zero_percent():
    ops = _client("Ops", "olga")
    make_draft(confidence=0.55, message=make_inbound_message(email="waiting@example.com"))  # pending: not decided
    body = ops.get("/admin/assistants/modelrun/quality/").content.decode()
    row = body.split('data-bucket="medium"')[1].split("</tr>")[0]
    assert '<td class="num">0</td>' in row  # decided: none
    assert "%" not in row and row.count('<td class="num">-</td>') == 3
