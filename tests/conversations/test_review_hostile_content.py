"""The review page never turns stored data into a dangerous link (issue item 10)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from customers.services import CustomerFacts, OrderFacts, customer_upsert, order_upsert
from tests.builders import make_draft, make_inbound_message

pytestmark = pytest.mark.django_db


def test_a_tracking_link_that_is_not_http_is_shown_as_text(client):
    """Orders stored before ingest kept only http(s) links may still hold a `javascript:` one."""
    customer, _ = customer_upsert(facts=CustomerFacts(shopify_id="77001", email="ada@example.com", name="Ada"))
    order_upsert(facts=OrderFacts(shopify_id="88001", name="#1001", customer_shopify_id="77001",
                                  email="ada@example.com", tracking=[
                                      {"number": "1ZBAD", "company": "UPS", "url": "javascript:alert(document.cookie)"},
                                      {"number": "1ZODD", "company": "UPS", "url": " JaVaScRiPt:alert(1)"},
                                      {"number": "1ZGOOD", "company": "UPS", "url": "https://track.example/1ZGOOD"}]))
    draft = make_draft(message=make_inbound_message(email="ada@example.com"))
    assert draft.conversation.customer_id == customer.pk
    agent = get_user_model().objects.create_user(username="agent-links", password="pw", is_staff=True)
    agent.groups.add(Group.objects.get(name="Agents"))
    client.force_login(agent)

    page = client.get(f"/admin/conversations/draft/{draft.pk}/change/").content.decode()
    assert "1ZBAD" in page and "1ZODD" in page
    assert "javascript:" not in page.lower()
    assert 'href="https://track.example/1ZGOOD"' in page
