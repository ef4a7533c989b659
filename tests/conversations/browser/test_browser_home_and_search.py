"""The agent's first screen and the queue's search box, in a real headless Chromium at 1280 px.

Before: the home panel's "Drafts to review" counts broke into five lines ("62 low" / "," / "1 medium" …:
the dashboard's stylesheet makes every link in a table cell a block), and the queue's search read the
draft and the subject but not the customer's email, so "blue lamp", the words an agent remembers from
what the customer wrote, found nothing when the draft said "the item you mean".
"""

from __future__ import annotations

import os

import pytest

from tests.browser import CHROMIUM, login
from tests.builders import make_draft, make_inbound_message, make_staff

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


def _grace(page, live_server):
    make_staff("Agents", "grace", password="grace-pass-2026")
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, live_server, "grace", "grace-pass-2026")


def test_the_home_panel_reads_its_counts_on_one_line(page, live_server):
    make_draft(confidence=0.3)
    make_draft(confidence=0.9, message=make_inbound_message(email="alan@example.com"))
    _grace(page, live_server)
    page.goto(f"{live_server.url}/admin/")
    cell = page.locator("#workspace-home tr", has=page.locator("#home-pending")).locator("td")
    assert cell.inner_text().split() == ["2", "(1", "low,", "0", "medium,", "1", "high", "confidence)"]
    assert cell.bounding_box()["height"] < 40  # one line, not five


def test_the_queue_search_finds_a_draft_by_the_customers_own_words(page, live_server):
    lamp = make_inbound_message(email="sam@example.com", subject="Question", body="Do you have the blue lamp in stock?")
    make_draft(message=lamp, body="Hello Sam,\nI am checking the item you mean with our team.\nBest,\nDemo Shop",
               intent="availability")
    make_draft(message=make_inbound_message(email="alan@example.com", body="Where is my tent?"))
    _grace(page, live_server)
    page.goto(f"{live_server.url}/admin/conversations/draft/?status__exact=pending")
    page.fill("#searchbar", "blue lamp")
    page.press("#searchbar", "Enter")
    page.wait_for_url("**q=blue+lamp**")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1 and "sam@example.com" in rows.first.inner_text()
