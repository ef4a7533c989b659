"""Ops read the weekly demand report where they read demand, in a real headless Chromium.

Before: `mine_demand` wrote its CSV into the blob store every Monday and nothing in the admin led to it;
Ops saw the trend chart but could not get the report itself (to hand to the buyer) without a shell."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from catalog.models import ProductRequest
from tests.browser import CHROMIUM, login
from tests.builders import logged_in_client, make_inbound_message, make_staff

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


def _asked(what: str, when: datetime, n: int) -> None:
    message = make_inbound_message(email=f"buyer{n}@example.org", body="(the request, counted below)")
    ProductRequest.objects.create(normalized=what, description=f"Do you sell {what}?",
                                  conversation=message.conversation, requested_at=when)


def test_ops_download_a_weeks_demand_report_from_the_trend_page(page, live_server):
    monday = datetime(2026, 11, 16, 10, tzinfo=UTC)  # 2026-W47
    for n in range(3):
        _asked("inflatable kayak", monday + timedelta(days=n), n)
    _asked("water filter", monday, 10)
    call_command("mine_demand", "--week", "2026-W47")
    make_staff("Ops", "olivia", password="olivia-pass-2026")
    login(page, live_server, "olivia", "olivia-pass-2026")

    page.goto(f"{live_server.url}/admin/catalog/productrequest/trend/")
    assert "2026-W47" in page.inner_text("#demand-reports").split()
    with page.expect_download() as download:
        page.click("#demand-reports >> text=2026-W47")
    assert download.value.suggested_filename == "demand-2026-W47.csv"
    assert open(download.value.path(), encoding="utf-8").read() == (
        "week,request,count,previous_4_week_mean,trend_score\n"
        "2026-W47,inflatable kayak,3,0.00,3.000\n"
        "2026-W47,water filter,1,0.00,1.000\n")


def test_a_week_with_no_report_is_not_found_nor_a_path_outside_the_reports():
    agent = logged_in_client("Agents", "grace")
    assert agent.get("/admin/catalog/productrequest/reports/2026-W01.csv").status_code == 404
    assert agent.get("/admin/catalog/productrequest/reports/..%2F..%2Fetc%2Fpasswd.csv").status_code != 200
