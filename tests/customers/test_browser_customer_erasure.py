"""A customer asks to be forgotten by phone or by letter (no email for triage to turn into a privacy
request): the Ops person erases her from her customer page, in a real headless Chromium, after a
confirmation that says what it does. Before: the customer page had no way to it (the privacy request's
button, the API or a shell were the only ones)."""

from __future__ import annotations

import os

import pytest

from customers.models import Customer
from omnichannel.models import AuditLog
from tests.browser import CHROMIUM, login
from tests.builders import logged_in_client, make_inbound_message, make_staff

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


def test_ops_erase_a_customer_from_her_page_after_confirming(page, live_server):
    message = make_inbound_message(email="nora.lind@example.org", subject="Tent", body="Is the tent waterproof?")
    nora = message.conversation.customer
    tom = make_inbound_message(email="tom.other@example.org", body="Do you sell pegs?").conversation.customer
    ops = make_staff("Ops", "olivia", password="olivia-pass-2026")
    login(page, live_server, "olivia", "olivia-pass-2026")

    page.goto(f"{live_server.url}/admin/customers/customer/{nora.pk}/change/")
    page.click("#erase-data")
    assert "nora.lind@example.org" in page.inner_text("#erase-who")
    assert not Customer.objects.get(pk=nora.pk).is_erased  # the confirmation erases nothing
    with page.expect_navigation():
        page.click("#erase-form input[type=submit]")
    assert "Erased the customer's personal data" in page.inner_text(".messagelist")
    assert page.query_selector("#erase-data") is None and page.query_selector("#export-data") is None

    nora.refresh_from_db()
    message.refresh_from_db()
    assert nora.is_erased and "nora.lind" not in nora.email and "waterproof" not in message.body
    assert not Customer.objects.get(pk=tom.pk).is_erased
    assert AuditLog.objects.filter(event_type__startswith="customer.eras", actor=f"user:{ops.pk}").exists()


def test_an_agent_cannot_erase_a_customer():
    nora = make_inbound_message(email="nora.lind@example.org").conversation.customer
    agent = logged_in_client("Agents", "grace")
    assert 'id="erase-data"' not in agent.get(f"/admin/customers/customer/{nora.pk}/change/").content.decode()
    assert agent.get(f"/admin/customers/customer/{nora.pk}/erase/").status_code == 403
    assert agent.post(f"/admin/customers/customer/{nora.pk}/erase/").status_code == 403
    assert not Customer.objects.get(pk=nora.pk).is_erased
