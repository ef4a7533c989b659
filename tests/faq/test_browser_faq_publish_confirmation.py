"""Publishing FAQ entries to the shop's public page asks first, in a real headless Chromium.

Before: choosing "Publish selected FAQ entries" and pressing Go put the entries on the shop's page at
once; one wrong tick published an unfinished answer for every visitor to read.
"""

from __future__ import annotations

import os

import pytest

from faq.models import FaqEntry
from faq.services import faq_entry_create, faq_entry_publish
from omnichannel.models import AuditLog
from tests.browser import CHROMIUM, login
from tests.builders import make_staff
from tests.integrations.shopify.conftest import fake_shop  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


def _choose_publish(page, live_server, entries) -> None:
    page.goto(f"{live_server.url}/admin/faq/faqentry/")
    for entry in entries:
        page.check(f"input[name=_selected_action][value='{entry.pk}']")
    page.select_option("select[name=action]", "publish_selected")
    with page.expect_navigation():
        page.click("button[name=index]")


def test_publishing_selected_entries_asks_first_and_cancel_publishes_nothing(page, live_server, fake_shop):  # noqa: F811
    gift = faq_entry_create(question="Do you offer gift cards?", answer="Yes, from 10 to 200 dollars, by email.")
    returns = faq_entry_create(question="How long do I have to return a tent?", answer="30 days, unused, with the receipt.")
    unfinished = faq_entry_create(question="Do you ship to Norway?", answer="TODO ask the warehouse")
    live = faq_entry_create(question="Can I change my order?", answer="Within an hour of ordering, yes.")
    faq_entry_publish(entry_id=live.pk)
    make_staff("Ops", "olivia", password="olivia-pass-2026")
    login(page, live_server, "olivia", "olivia-pass-2026")

    _choose_publish(page, live_server, [gift, returns, live])
    # The confirmation lists what goes public and what already is; nothing is published yet.
    listed = page.inner_text("#to-publish")
    assert "Do you offer gift cards?" in listed and "How long do I have to return a tent?" in listed
    assert "Can I change my order?" not in listed and "Can I change my order?" in page.inner_text("#already-published")
    assert "Do you ship to Norway?" not in page.content()
    assert set(FaqEntry.objects.filter(pk__in=[gift.pk, returns.pk]).values_list("status", flat=True)) == {"draft"}

    with page.expect_navigation():
        page.click("#cancel-publish")
    assert page.url.rstrip("/").endswith("/admin/faq/faqentry")
    assert not AuditLog.objects.filter(event_type="faq.published").exclude(object_id=str(live.pk)).exists()
    assert FaqEntry.objects.get(pk=gift.pk).status == "draft"

    _choose_publish(page, live_server, [gift, returns])
    with page.expect_navigation():
        page.click("#confirm-publish")
    assert "Published 2 FAQ entries" in page.inner_text("ul.messagelist")
    assert FaqEntry.objects.get(pk=gift.pk).status == FaqEntry.Status.PUBLISHED
    assert FaqEntry.objects.get(pk=returns.pk).status == FaqEntry.Status.PUBLISHED
    assert FaqEntry.objects.get(pk=unfinished.pk).status == FaqEntry.Status.DRAFT
    # Through the service: one audit row per entry, by the person who confirmed.
    audits = AuditLog.objects.filter(event_type="faq.published", object_id__in=[str(gift.pk), str(returns.pk)])
    assert sorted(audits.values_list("actor_user__username", flat=True)) == ["olivia", "olivia"]
    [shop_page] = fake_shop.resources["pages"]
    assert "Do you offer gift cards?" in shop_page["body_html"]
