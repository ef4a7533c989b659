"""`customers.selectors.customer_summary_get`: the typed summary the prompt and the API share."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conversations.services.drafts import draft_create
from conversations.services.threads import MessageFacts, message_ingest
from customers.models import Order
from customers.selectors import CustomerSummary, OpenDraft, OrderLine, customer_summary_get, customer_summary_refresh
from tests.builders import make_draft, make_inbound_message

pytestmark = pytest.mark.django_db


def test_a_customer_with_a_pending_draft_and_no_orders():
    draft = make_draft(message=make_inbound_message(email="new.camper@example.org"), confidence=0.62,
                       intent="availability")
    customer_summary_refresh()
    summary = customer_summary_get(email=" New.Camper@example.org ")
    assert isinstance(summary, CustomerSummary)
    assert summary.latest_orders == [] and summary.orders_count == 0 and summary.backordered_count == 0
    assert summary.open_drafts == [OpenDraft(id=draft.pk, conversation_id=draft.conversation_id, intent="availability",
                                             confidence=0.62, created_at=summary.open_drafts[0].created_at)]
    assert summary.open_drafts[0].created_at.startswith(draft.created_at.date().isoformat())
    assert customer_summary_get(customer_id=summary.customer_id) == summary


def test_a_decided_draft_is_no_longer_open_after_the_refresh(django_user_model):
    from conversations.services.approvals import draft_approve

    draft = make_draft(message=make_inbound_message(email="decided@example.org"))
    customer_summary_refresh()
    assert len(customer_summary_get(email="decided@example.org").open_drafts) == 1
    draft_approve(draft_id=draft.pk, acting_user=django_user_model.objects.create_user(username="decider"))
    customer_summary_refresh()
    assert customer_summary_get(email="decided@example.org").open_drafts == []


def test_a_guest_checkout_gets_its_orders_and_the_drafts_of_the_threads_it_wrote_in():
    Order.objects.create(shopify_id="g-1", name="#2001", email="guest.only@example.net", status="backordered",
                         total_price_cents=4500, currency="EUR", placed_at=datetime(2026, 10, 1, tzinfo=UTC))
    message, _ = message_ingest(facts=MessageFacts(
        channel="email", direction="inbound", external_msg_id="guest-1", external_thread_id="guest-thread",
        from_address="guest.only@example.net", subject="My order", body="Where is #2001?",
        sent_at=datetime(2026, 10, 2, tzinfo=UTC)), integration="test")  # no customer: a guest
    draft = draft_create(conversation_id=message.conversation_id, body="It ships Friday.", confidence=0.9,
                         intent="order_status", reply_to_id=message.pk)
    customer_summary_refresh()
    summary = customer_summary_get(email="guest.only@example.net")
    assert summary.customer_id is None and summary.segment == "guest" and summary.backordered_count == 1
    assert summary.latest_orders == [OrderLine(id=summary.latest_orders[0].id, name="#2001", status="backordered",
                                               tracking=[], placed_at="2026-10-01T00:00:00+00:00",
                                               total_price_cents=4500)]
    assert [d.id for d in summary.open_drafts] == [draft.pk]
    assert customer_summary_get(email="nobody.at.all@example.net") is None


def test_a_lead_created_by_an_email_is_in_the_summary_at_once_not_only_after_the_schedule(
        django_capture_on_commit_callbacks):
    from django.core.cache import cache

    from integrations.zoho.ingest import zoho_message_ingest

    cache.delete("debounce:refresh_customer_summary")  # no refresh of another test's within the window
    with django_capture_on_commit_callbacks(execute=True):
        zoho_message_ingest({"messageId": "1766000000000000001", "threadId": "lead-1", "subject": "Hello",
                             "fromAddress": "First Time <first.time@example.org>", "html": "<p>Do you ship to Oslo?</p>",
                             "receivedTime": "1764000000000"})
    summary = customer_summary_get(email="first.time@example.org")
    assert summary is not None and summary.segment == "lead" and summary.name == "First Time"
