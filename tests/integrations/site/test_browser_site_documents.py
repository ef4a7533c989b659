"""Site documents in the admin, in a real headless Chromium: Ops add a page of the shop's site (it is
crawled and indexed), re-crawl it now (a 304: nothing re-indexed) and remove it (its chunks leave the index)."""

from __future__ import annotations

import os

import pytest

from assistants.vectorstore import SITE, index_query
from integrations.models import SiteDocument
from omnichannel.models import AuditLog
from tests.browser import CHROMIUM, login
from tests.builders import make_staff
from tests.integrations.site.test_site_documents import _page, site  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


def _run_action(page, document_id: int, action: str) -> None:
    page.check(f"input[name=_selected_action][value='{document_id}']")
    page.select_option("select[name=action]", action)
    with page.expect_navigation():
        page.click("button[name=index]")


def test_ops_add_recrawl_and_remove_a_site_page_in_the_admin(page, live_server, site):  # noqa: F811
    site.put("/stores", _page("Stores", "Our Keswick store is open from 9am to 6pm, seven days a week."))
    ops = make_staff("Ops", "sd-olga", password="olga-pass-2026")
    login(page, live_server, "sd-olga", "olga-pass-2026")
    page.goto(f"{live_server.url}/admin/integrations/sitedocument/add/")
    page.fill("#id_url", f"{site.base}/stores")
    page.select_option("#id_kind", "page")
    with page.expect_navigation():
        page.click("input[name=_save]")
    document = SiteDocument.objects.get()
    assert document.status == "ok" and document.chunk_count >= 1  # crawled after the add committed
    page.goto(f"{live_server.url}/admin/integrations/sitedocument/")
    row = page.locator("#result_list tbody tr").first.inner_text()
    assert f"{site.base}/stores" in row and "Indexed" in row and "Page" in row
    assert index_query(SITE, "Keswick store open seven days", n=1)[0].metadata["url"] == f"{site.base}/stores"

    _run_action(page, document.pk, "recrawl_now")
    assert "1 document(s) queued" in page.locator(".messagelist").inner_text()
    assert site.answers[-1] == ("/stores", 304)
    assert "Unchanged" in page.locator("#result_list tbody tr").first.inner_text()

    _run_action(page, document.pk, "remove_selected")
    document.refresh_from_db()
    assert document.status == "removed" and document.chunk_count == 0
    assert not [h for h in index_query(SITE, "Keswick store open seven days", n=3) if "/stores" in h.metadata["url"]]
    assert "Removed" in page.locator("#result_list tbody tr").first.inner_text()
    assert set(AuditLog.objects.filter(actor_user=ops).values_list("event_type", flat=True)) == {
        "site_document.added",
        "site_document.recrawl_requested",
        "site_document.removed",
    }
    assert page.locator("select[name=action] option[value=delete_selected]").count() == 0
