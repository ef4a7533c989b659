"""`POST /api/customers/<id>/erase/`: Ops answer an erasure request through the API."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from customers.models import Customer, Order
from customers.selectors import customer_summary_refresh
from integrations.demo import seed_demo
from omnichannel.models import AuditLog
from tests.builders import token_client

pytestmark = pytest.mark.django_db


def _client(group: str, name: str) -> tuple[APIClient, object]:
    return token_client(group, name, password=None)


@pytest.fixture
def grace():
    seed_demo()
    customer_summary_refresh()
    return Customer.objects.get(email__iexact="grace.hopper@example.com")


def test_ops_erase_a_customer_everywhere_and_the_summary_forgets_them(grace, django_capture_on_commit_callbacks):
    ops, ops_user = _client("Ops", "erasing-ops")
    assert ops.get("/api/customer_summary/?email=grace.hopper@example.com").status_code == 200
    orders = Order.objects.filter(customer=grace).count()
    with django_capture_on_commit_callbacks(execute=True):  # the summary refresh runs after commit
        response = ops.post(f"/api/customers/{grace.pk}/erase/")
    assert response.status_code == 200
    body = response.json()
    assert body["customers"] == [grace.pk] and body["counts"]["customers"] == 1
    assert body["counts"]["orders"] >= orders > 0
    grace.refresh_from_db()
    assert grace.is_erased and grace.email.endswith("@erased.invalid") and grace.name == ""
    assert not Order.objects.filter(email__iexact="grace.hopper@example.com").exists()
    event = AuditLog.objects.get(event_type="customer.erased")
    assert event.actor_user == ops_user and event.payload["customer_ids"] == [grace.pk]
    assert "grace" not in str(event.payload).lower()  # ids and counts, never the PII itself
    assert ops.get("/api/customer_summary/?email=grace.hopper@example.com").status_code == 404
    assert ops.get(f"/api/customer_summary/{grace.pk}/").status_code == 404
    # Erased customers are gone from the API: a second request is a 404, not a second erasure.
    assert ops.post(f"/api/customers/{grace.pk}/erase/").status_code == 404


def test_an_agent_may_not_erase(grace):
    agent, _ = _client("Agents", "erasing-agent")
    assert agent.post(f"/api/customers/{grace.pk}/erase/").status_code == 403
    grace.refresh_from_db()
    assert not grace.is_erased and not AuditLog.objects.filter(event_type="customer.erased").exists()


def test_erasing_an_unknown_customer_is_a_404():
    ops, _ = _client("Ops", "erasing-ops-404")
    assert ops.post("/api/customers/999999/erase/").status_code == 404
