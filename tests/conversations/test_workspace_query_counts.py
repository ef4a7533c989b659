"""Every page of the agents' workspace runs a fixed number of queries, whatever the number of rows.

Each page is asked twice, over a small and a larger data set (several pages of the queue), and
must run exactly the queries counted here: a new N+1 loop, or a column read row by row, changes
the number. A page of the big lists deep in the list runs one query more than the first page (its
ids first, then its rows: conversations/admin_paging.py) and shows the rows the order says.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations.models import Conversation, Draft, Message
from conversations.services.approvals import draft_approve, draft_reject
from customers.models import Order
from tests.builders import make_draft, make_inbound_message, make_staff

pytestmark = pytest.mark.django_db

# page -> (url for a data set, queries with a few rows, queries with several pages of rows). The
# usual 3 of every admin page are the session, the user and their permissions.
PAGES = {
    "home": (lambda d: "/admin/", 6, 6),
    "queue": (lambda d: "/admin/conversations/draft/?status__exact=pending", 4, 4),
    "queue, filtered": (
        lambda d: "/admin/conversations/draft/?status__exact=pending&person=any&lang=en&confidence=high",
        4,
        4,
    ),
    "queue, failed sends": (lambda d: "/admin/conversations/draft/?send=failed", 4, 4),
    "queue, page 2": (lambda d: "/admin/conversations/draft/?status__exact=pending&p=2", 4, 5),
    "review": (lambda d: f"/admin/conversations/draft/{d['pending'].pk}/change/", 9, 9),
    "review, decided": (lambda d: f"/admin/conversations/draft/{d['approved'].pk}/change/", 9, 9),
    "conversations": (lambda d: "/admin/conversations/conversation/", 5, 5),
    "conversations, page 2": (lambda d: "/admin/conversations/conversation/?p=2", 5, 6),
    "awaiting reply": (lambda d: "/admin/conversations/conversation/?awaiting=reply", 4, 4),
    "awaiting reply, triaged": (lambda d: "/admin/conversations/conversation/?awaiting=reply&triage=auto_reply", 4, 4),
    "conversation": (lambda d: f"/admin/conversations/conversation/{d['pending'].conversation_id}/change/", 6, 6),
    "messages": (lambda d: "/admin/conversations/message/", 5, 5),
    "approvals": (lambda d: "/admin/conversations/approval/", 4, 4),
    "triaged emails": (lambda d: "/admin/conversations/triagedmessage/?state=open", 4, 4),
    "customer": (lambda d: f"/admin/customers/customer/{d['customer'].pk}/change/", 3, 3),
    "order": (lambda d: f"/admin/customers/order/{d['order'].pk}/change/", 4, 4),
}
OPS_PAGES = {
    "home": ("/admin/", 6),
    "model quality": ("/admin/assistants/modelrun/quality/", 3),
    "model runs": ("/admin/assistants/modelrun/", 7),
    "privacy requests": ("/admin/conversations/privacyrequest/?state=open", 4),
}


def _data(n: int) -> dict:
    """`n` pending drafts, each customer with an order, plus one approved, one rejected and one
    auto-reply: every list and page has rows of each kind."""
    now = timezone.now()
    pending = [
        make_draft(
            message=make_inbound_message(
                email=f"c{i}@example.com", body=f"Where is order #{1000 + i}?", sent_at=now - timedelta(hours=n - i)
            )
        )
        for i in range(n)
    ]
    for i, draft in enumerate(pending):
        customer = draft.conversation.customer
        Order.objects.create(
            shopify_id=9000 + i + n * 1000,
            customer=customer,
            name=f"#{1000 + i}",
            currency="EUR",
            total_price_cents=4990,
            line_items=[{"title": "Tent", "quantity": 1, "price_cents": 4990}],
            placed_at=now - timedelta(days=3),
        )
    decider = make_staff("Agents", f"decider-{n}")
    approved = pending.pop()
    draft_approve(draft_id=approved.pk, acting_user=decider)
    rejected = pending.pop()
    draft_reject(draft_id=rejected.pk, reason="Wrong order", acting_user=decider)
    make_inbound_message(
        email="away@example.com", subject="Automatic reply: Out of office", body="I am out of the office until Monday."
    )
    Message.objects.filter(from_address="away@example.com").update(triage_label="auto_reply", triage_reason="test")
    customer = pending[0].conversation.customer
    return {
        "pending": pending[0],
        "approved": approved,
        "rejected": rejected,
        "customer": customer,
        "order": Order.objects.filter(customer=customer).first(),
    }


def _queries(client: Client, url: str) -> int:
    assert client.get(url).status_code == 200  # warm the session and permission caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


@pytest.fixture
def ops():
    client = Client()
    client.force_login(make_staff("Ops", "olga"))
    return client


@pytest.fixture
def agent():
    client = Client()
    client.force_login(make_staff("Agents", "grace"))
    return client


def test_every_agent_page_runs_its_fixed_number_of_queries_for_a_few_rows_and_for_many(agent):
    few = _data(6)
    seen_few = {name: _queries(agent, url(few)) for name, (url, _, _) in PAGES.items()}
    many = _data(130)  # the queue has three pages of 50, the conversation list two of 100
    seen_many = {name: _queries(agent, url(many)) for name, (url, _, _) in PAGES.items()}
    assert seen_few == {name: expected for name, (_, expected, _) in PAGES.items()}
    assert seen_many == {name: expected for name, (_, _, expected) in PAGES.items()}


def test_every_ops_page_runs_its_fixed_number_of_queries(ops):
    _data(6)
    assert {name: _queries(ops, url) for name, (url, _) in OPS_PAGES.items()} == {
        name: expected for name, (_, expected) in OPS_PAGES.items()
    }


def _listed_drafts(client: Client, url: str) -> list[int]:
    body = client.get(url).content.decode()
    return list(dict.fromkeys(int(pk) for pk in re.findall(r"/admin/conversations/draft/(\d+)/change/", body)))


def test_a_deep_page_shows_the_rows_its_place_in_the_order_says(agent):
    data = _data(130)
    assert data["pending"].conversation_id
    queue = "/admin/conversations/draft/?status__exact=pending"
    expected = list(Draft.objects.filter(status="pending").order_by("waiting_since", "id").values_list("pk", flat=True))
    assert _listed_drafts(agent, f"{queue}&p=2") == expected[50:100]
    assert _listed_drafts(agent, f"{queue}&p=3") == expected[100:]
    # Sorted by a joined column (the customer's address, descending), a deep page still follows that order.
    by_customer = list(
        Draft.objects.filter(status="pending")
        .order_by("-conversation__customer__email", "waiting_since", "id")
        .values_list("pk", flat=True)
    )
    assert by_customer != expected
    assert _listed_drafts(agent, f"{queue}&o=-0&p=2") == by_customer[50:100]
    page = agent.get(f"{queue}&p=2").content.decode()
    first = Draft.objects.select_related("conversation__customer").get(pk=expected[50])
    assert first.conversation.customer.email in page and first.conversation.subject in page  # the joined columns
    conversations = list(Conversation.objects.order_by("-last_message_at", "-pk").values_list("pk", flat=True))
    body = agent.get("/admin/conversations/conversation/?p=2").content.decode()
    listed = list(dict.fromkeys(int(pk) for pk in re.findall(r"/admin/conversations/conversation/(\d+)/change/", body)))
    assert listed == conversations[100:200]
