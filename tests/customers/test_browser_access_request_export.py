"""A customer writes "please send me all the data you hold about me" (an access request by email, not
Shopify's data_request webhook). The Ops person handling it opens her customer page, exports her data
and downloads it, in a real headless Chromium; both steps are audited as that person's.

Before: the admin had no way to it. Data requests came only from Shopify's webhook, the customer page
was read-only with nothing to press, and the privacy request offered only the erasure.
"""

from __future__ import annotations

import json
import os

import pytest

from customers.models import DataRequest
from customers.services_erasure import customer_erase
from omnichannel.models import AuditLog
from tests.browser import CHROMIUM, login
from tests.builders import logged_in_client, make_inbound_message, make_staff

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"),
]

ASKING = "Hello, under the GDPR please send me a copy of all the personal data you hold about me. Mira"


def test_ops_export_a_requesters_data_from_her_customer_page_and_download_it(page, live_server):
    request_email = make_inbound_message(email="mira.kowalski@example.org", subject="My data", body=ASKING)
    make_inbound_message(email="tom.other@example.org", subject="Tent pegs", body="Do you sell spare tent pegs?")
    mira = request_email.conversation.customer
    ops = make_staff("Ops", "olivia", password="olivia-pass-2026")
    login(page, live_server, "olivia", "olivia-pass-2026")

    page.goto(f"{live_server.url}/admin/customers/customer/{mira.pk}/change/")
    with page.expect_navigation():
        page.click("#export-data button")
    data_request = DataRequest.objects.get()
    assert page.url.endswith(f"/admin/customers/datarequest/{data_request.pk}/change/")
    assert "download its export here" in page.inner_text(".messagelist")
    with page.expect_download() as download:
        page.click("text=Download (JSON)")
    export = json.loads(open(download.value.path(), encoding="utf-8").read())

    assert [c["email"] for c in export["customers"]] == ["mira.kowalski@example.org"]
    text = json.dumps(export)
    assert ASKING in text and "tent pegs" not in text  # her messages, never another customer's
    audit = {row.event_type: row for row in AuditLog.objects.filter(object_type="customers.datarequest",
                                                                     object_id=str(data_request.pk))}
    assert audit["data_request.received"].actor == audit["data_request.downloaded"].actor == f"user:{ops.pk}"


def test_an_agent_sees_no_export_button_and_a_forged_post_records_nothing():
    mira = make_inbound_message(email="mira.kowalski@example.org", body=ASKING).conversation.customer
    agent = logged_in_client("Agents", "grace")
    page = agent.get(f"/admin/customers/customer/{mira.pk}/change/").content.decode()
    assert 'id="export-data"' not in page
    assert agent.post(f"/admin/customers/customer/{mira.pk}/export/").status_code == 403
    assert not DataRequest.objects.exists()


def test_an_erased_customer_has_nothing_to_export():
    mira = make_inbound_message(email="mira.kowalski@example.org", body=ASKING).conversation.customer
    customer_erase(email="mira.kowalski@example.org")
    ops = logged_in_client("Ops", "olivia")
    assert 'id="export-data"' not in ops.get(f"/admin/customers/customer/{mira.pk}/change/").content.decode()
    response = ops.post(f"/admin/customers/customer/{mira.pk}/export/", follow=True)
    assert "This customer is erased" in response.content.decode()
    assert not DataRequest.objects.exists()
