"""The agents' workspace: queue, review page, decisions, permissions, safety, on Postgres."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import close_old_connections

from conversations.models import Approval, Draft
from conversations.services.approvals import draft_approve
from integrations.demo import seed_demo
from omnichannel.errors import StateConflict
from tests.builders import make_draft, make_inbound_message, make_staff, page_queries

pytestmark = pytest.mark.django_db


def _user(group: str, name: str | None = None):
    return make_staff(group, name)


@pytest.fixture
def agent_client(client):
    client.force_login(_user("Agents"))
    return client


def _drafts(n: int) -> list[Draft]:
    return [make_draft(message=make_inbound_message(email=f"c{i}@example.com", body=f"question {i}")) for i in range(n)]


def test_the_queue_runs_the_same_number_of_queries_for_10_and_200_drafts(agent_client):
    _drafts(10)
    few = page_queries(agent_client, "/admin/conversations/draft/?status__exact=pending")
    _drafts(190)
    many = page_queries(agent_client, "/admin/conversations/draft/?status__exact=pending")
    assert few == many


def test_the_review_page_runs_the_same_number_of_queries_for_10_and_200_drafts(agent_client):
    first = _drafts(10)[0]
    few = page_queries(agent_client, f"/admin/conversations/draft/{first.pk}/change/")
    _drafts(190)
    assert page_queries(agent_client, f"/admin/conversations/draft/{first.pk}/change/") == few


def test_the_queue_opens_on_pending_drafts_oldest_first(agent_client):
    drafts = _drafts(3)
    response = agent_client.get("/admin/conversations/draft/", follow=True)
    body = response.content.decode()
    assert "status__exact=pending" in response.redirect_chain[0][0]
    assert body.index(f"/{drafts[0].pk}/change/") < body.index(f"/{drafts[2].pk}/change/")
    assert "c0@example.com" in body


def test_queue_filters_and_search(agent_client):
    low = make_draft(confidence=0.2, message=make_inbound_message(email="low@example.com"))
    make_draft(confidence=0.9, message=make_inbound_message(email="high@example.com"))
    body = agent_client.get("/admin/conversations/draft/?status__exact=pending&confidence=low").content.decode()
    assert "low@example.com" in body and "high@example.com" not in body
    body = agent_client.get("/admin/conversations/draft/?status__exact=pending&q=high@example").content.decode()
    assert "high@example.com" in body and f"/{low.pk}/change/" not in body


def test_the_review_page_shows_thread_customer_sources_and_run():
    seed_demo()
    from django.test import Client

    from assistants.services import draft_generate
    from conversations.models import Message

    outcome = draft_generate(message_id=Message.objects.get(subject="Where is my tent?").pk)
    client = Client()
    client.force_login(get_user_model().objects.get(username="agent"))
    body = client.get(f"/admin/conversations/draft/{outcome.draft.pk}/change/").content.decode()
    assert "I ordered the Ridgeline tent" in body  # the thread
    assert "Ada Lovelace" in body and "VIP" in body and "486.50 USD" in body  # the customer panel
    assert "1Z999AA10123456784" in body  # latest orders with tracking
    assert "/admin/customers/order/" in body and "Order #1001" in body  # a clickable source
    assert "grounded-v2" in body  # the model run
    assert "Why this confidence:</strong> answered: order status" in body  # the confidence's reasons
    assert "Sources used: order #1001" in body


def test_approve_from_the_review_page_records_the_decision_and_moves_to_the_next(agent_client):
    first, second = _drafts(2)
    response = agent_client.post(f"/admin/conversations/draft/{first.pk}/decide/", {"action": "approve"})
    assert response.status_code == 302 and response.url.endswith(f"/{second.pk}/change/")
    first.refresh_from_db()
    assert first.status in (Draft.Status.APPROVED, Draft.Status.SENT)
    approval = Approval.objects.get(draft=first)
    assert approval.action == "approve" and approval.approved_by.username == "agents-user"


def test_edit_and_approve_keeps_the_unified_diff(agent_client):
    draft = make_draft(body="Hello Ada,\nYour order shipped.\nBest")
    agent_client.post(f"/admin/conversations/draft/{draft.pk}/decide/",
                      {"action": "edit", "final_text": "Hello Ada,\r\nYour order shipped today with UPS.\r\nBest"})
    approval = Approval.objects.get(draft=draft)
    assert approval.action == "edit" and "-Your order shipped.\n+Your order shipped today with UPS." in approval.diff


def test_reject_needs_a_reason(agent_client):
    draft = make_draft()
    response = agent_client.post(f"/admin/conversations/draft/{draft.pk}/decide/", {"action": "reject"}, follow=True)
    assert "a reason is required" in response.content.decode()
    agent_client.post(f"/admin/conversations/draft/{draft.pk}/decide/", {"action": "reject", "reason": "wrong order"})
    draft.refresh_from_db()
    assert draft.status == Draft.Status.REJECTED and Approval.objects.get(draft=draft).reason == "wrong order"


def test_a_decided_draft_cannot_be_decided_again_and_the_agent_is_told(agent_client):
    draft = make_draft()
    agent_client.post(f"/admin/conversations/draft/{draft.pk}/decide/", {"action": "approve"})
    response = agent_client.post(f"/admin/conversations/draft/{draft.pk}/decide/", {"action": "approve"}, follow=True)
    assert "cannot be decided again" in response.content.decode()
    assert Approval.objects.filter(draft=draft).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_agents_approving_at_once_exactly_one_wins():
    draft = make_draft()
    users = [_user("Agents", "agent-one"), _user("Agents", "agent-two")]
    barrier = threading.Barrier(2)
    outcomes = []

    def decide(user):
        barrier.wait()
        try:
            draft_approve(draft_id=draft.pk, acting_user=user)
            outcomes.append("won")
        except StateConflict:
            outcomes.append("conflict")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=decide, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "won"] and Approval.objects.filter(draft=draft).count() == 1


def test_an_ops_user_without_decide_permission_cannot_decide(client):
    ops = _user("Ops")
    group = Group.objects.get(name="Ops")
    group.permissions.remove(*group.permissions.filter(codename="decide_draft"))
    client.force_login(get_user_model().objects.get(pk=ops.pk))
    draft = make_draft()
    assert client.post(f"/admin/conversations/draft/{draft.pk}/decide/", {"action": "approve"}).status_code == 403


def test_agents_cannot_edit_approvals_audit_rows_or_raw_deliveries(agent_client):
    draft = make_draft()
    agent_client.post(f"/admin/conversations/draft/{draft.pk}/decide/", {"action": "approve"})
    approval = Approval.objects.get(draft=draft)
    assert agent_client.post(f"/admin/conversations/approval/{approval.pk}/change/", {"final_text": "x"}).status_code == 403
    assert agent_client.get("/admin/omnichannel/auditlog/").status_code == 403
    assert agent_client.get("/admin/omnichannel/webhookdelivery/").status_code == 403


def test_inbound_html_is_shown_sanitized(agent_client):
    from datetime import UTC, datetime

    from conversations.services.threads import MessageFacts, message_ingest

    message, _ = message_ingest(facts=MessageFacts(
        channel="email", direction="inbound", external_msg_id="xss-1", external_thread_id="xss",
        from_address="evil@example.com", subject="hi", body="",
        body_html='<p>Hello</p><script>alert("x")</script><img src=x onerror="alert(1)">',
        sent_at=datetime(2026, 11, 1, tzinfo=UTC)), integration="test")
    draft = make_draft(message=message)
    body = agent_client.get(f"/admin/conversations/draft/{draft.pk}/change/").content.decode()
    # The mail is a sandboxed frame's document (srcdoc, escaped in the page): sanitized inside too.
    import html
    import re

    [frame] = re.findall(r'<iframe class="mail-frame" sandbox="([^"]*)"[^>]*srcdoc="([^"]*)"', body)
    assert "allow-scripts" not in frame[0] and "allow-same-origin" not in frame[0]
    document = html.unescape(frame[1])
    assert "<p>Hello</p>" in document
    assert "alert" not in document and "onerror" not in document
    assert 'alert("x")' not in body and "onerror" not in body
