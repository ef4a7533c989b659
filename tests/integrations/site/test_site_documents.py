"""Site documents Ops add, re-crawl and remove, against a local HTTP server that answers conditional GETs
(ETag / Last-Modified) and counts what it was asked."""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistants.context import context_build, email_in
from assistants.vectorstore import SITE, index_count, index_query
from integrations.models import SiteDocument
from integrations.site.crawler import site_rehydrate
from integrations.site.documents import site_document_add, site_document_crawl, site_document_remove
from integrations.site.tasks import crawl_site_documents
from omnichannel.models import AuditLog
from tests.builders import task_run_eagerly

pytestmark = pytest.mark.django_db

FILLER = " ".join(["Our outdoor gear is tested in the Lake District before it reaches the shop."] * 3)


def _page(title: str, text: str, filler: str = FILLER) -> str:
    return (
        f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>{text}</p>"
        f"<p>{filler}</p></article></body></html>"
    )


class FakeSite:
    def __init__(self):
        self.pages: dict[str, tuple[str, str, str]] = {}
        self.hits: list[tuple[str, str, str]] = []  # (path, If-None-Match, If-Modified-Since)
        self.answers: list[tuple[str, int]] = []

    def put(self, path: str, body: str, content_type: str = "text/html", last_modified: str = ""):
        self.pages[path] = (content_type, body, last_modified or "Mon, 30 Nov 2026 10:00:00 GMT")

    def conditional(self, path: str) -> list[tuple[str, str, str]]:
        return [hit for hit in self.hits if hit[0] == path and (hit[1] or hit[2])]


@pytest.fixture
def site(settings):
    settings.SITE_CRAWL_ALLOW_PRIVATE = True
    fake = FakeSite()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            etag_sent, since_sent = self.headers.get("If-None-Match", ""), self.headers.get("If-Modified-Since", "")
            fake.hits.append((self.path, etag_sent, since_sent))
            if self.path not in fake.pages:
                fake.answers.append((self.path, 404))
                self.send_response(404)
                self.end_headers()
                return
            content_type, body, last_modified = fake.pages[self.path]
            data = body.encode()
            etag = f'"{hashlib.sha256(data).hexdigest()[:16]}"'
            if etag_sent == etag or (not etag_sent and since_sent == last_modified):
                fake.answers.append((self.path, 304))
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            fake.answers.append((self.path, 200))
            self.send_response(200)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()


def _add(url: str, kind: str = "page") -> SiteDocument:
    return site_document_add(url=url, kind=kind, crawl=False)


def _site_ids() -> set[str]:
    from assistants.vectorstore import _with_collection

    return set(_with_collection(SITE, lambda target: target.get(include=[])["ids"]))


def test_an_unchanged_page_answers_304_and_nothing_is_indexed_again(site):
    site.put("/shipping", _page("Shipping", "Orders ship within 1-2 business days from our Leeds warehouse."))
    document = site_document_crawl(document_id=_add(f"{site.base}/shipping").pk)
    assert document.status == "ok" and document.chunk_count >= 1 and document.etag.startswith('"')
    ids, snapshot_id = _site_ids(), document.snapshot_id
    again = site_document_crawl(document_id=document.pk)
    assert site.answers[-1] == ("/shipping", 304) and site.conditional("/shipping")
    assert again.status == "unchanged" and _site_ids() == ids
    again.refresh_from_db()
    assert again.snapshot_id == snapshot_id and again.last_crawled_at is not None


def test_a_200_with_the_same_bytes_is_unchanged_by_its_hash(site):
    """A server that ignores the conditions (no 304) still costs no re-index: the content hash decides."""
    site.put("/faq", _page("FAQ", "Gift wrapping costs 3 pounds per parcel."))
    document = site_document_crawl(document_id=_add(f"{site.base}/faq").pk)
    ids = _site_ids()
    SiteDocument.objects.filter(pk=document.pk).update(etag='"stale"', last_modified="")
    again = site_document_crawl(document_id=document.pk)
    assert site.answers[-1] == ("/faq", 200) and again.status == "unchanged" and _site_ids() == ids


def test_a_changed_page_replaces_its_own_chunks_and_the_draft_context_finds_the_new_text(site):
    site.put("/returns", _page("Returns", "You can return unused items within 30 days of delivery for a refund."))
    site.put("/shipping", _page("Shipping", "Orders ship within 1-2 business days from our Leeds warehouse."))
    returns = site_document_crawl(document_id=_add(f"{site.base}/returns").pk)
    shipping = site_document_crawl(document_id=_add(f"{site.base}/shipping").pk)
    shipping_ids = {i for i in _site_ids() if i.startswith(f"site-{shipping.snapshot_id}-")}
    site.put(
        "/returns",
        _page(
            "Returns",
            "Unworn kayak paddles can be returned within 45 days for store credit.",
            filler="Kayak paddles returned unworn get store credit.",
        ),
        last_modified="Sat, 05 Dec 2026 10:00:00 GMT",
    )
    changed = site_document_crawl(document_id=returns.pk)
    assert site.answers[-1] == ("/returns", 200) and changed.status == "ok"
    assert changed.snapshot_id != returns.snapshot_id
    ids = _site_ids()
    assert not any(i.startswith(f"site-{returns.snapshot_id}-") for i in ids)  # the old version's chunks gone
    assert shipping_ids <= ids  # the other page untouched
    ctx = context_build(
        email=email_in(
            from_address="a@example.com",
            subject="paddles",
            body="Can unworn kayak paddles be returned, within how many days, for store credit?",
        )
    )
    texts = " ".join(source.facts["text"] for source in ctx.site)
    assert "45 days" in texts and "30 days" not in texts
    assert AuditLog.objects.filter(event_type="site_document.indexed", object_id=str(returns.pk)).count() == 2


def test_a_removed_page_leaves_the_index_and_is_not_crawled_again(site):
    site.put("/sizes", _page("Sizes", "Our walking boots run half a size small; order one size up."))
    document = site_document_crawl(document_id=_add(f"{site.base}/sizes").pk)
    assert index_query(SITE, "walking boots half a size small", n=1)[0].metadata["url"] == f"{site.base}/sizes"
    before, chunks, snapshot_id = index_count(SITE), document.chunk_count, document.snapshot_id
    site_document_remove(document_id=document.pk)
    document.refresh_from_db()
    assert document.status == "removed" and document.chunk_count == 0
    assert chunks and index_count(SITE) == before - chunks
    assert not any(i.startswith(f"site-{snapshot_id}-") for i in _site_ids())
    hits = len(site.hits)
    assert task_run_eagerly(crawl_site_documents) == {"removed": 1} and len(site.hits) == hits
    assert AuditLog.objects.filter(event_type="site_document.removed", object_id=str(document.pk)).exists()
    site_rehydrate()  # the index rebuilt from the snapshots: the removed page stays out
    assert index_count(SITE) == before - chunks


def test_a_sitemap_expands_to_its_pages_and_a_page_it_drops_is_removed(site):
    site.put("/a", _page("Care", "Wax your leather boots every three months."))
    site.put("/b", _page("Warranty", "Tents carry a two-year warranty against seam failure."))
    urls = "".join(f"<url><loc>{site.base}{p}</loc></url>" for p in ("/a", "/b"))
    site.put(
        "/sitemap.xml",
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{urls}<url><loc>https://elsewhere.example/x</loc></url></urlset>",
        content_type="application/xml",
    )
    sitemap = _add(f"{site.base}/sitemap.xml", kind="sitemap")
    task_run_eagerly(crawl_site_documents)
    pages = {d.url.replace(site.base, ""): d for d in SiteDocument.objects.filter(parent=sitemap)}
    assert set(pages) == {"/a", "/b"} and all(d.status == "ok" and d.chunk_count for d in pages.values())
    site.put(
        "/sitemap.xml",
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{site.base}/a</loc></url></urlset>",
        content_type="application/xml",
    )
    task_run_eagerly(crawl_site_documents)
    assert SiteDocument.objects.get(url=f"{site.base}/b").status == "removed"
    assert SiteDocument.objects.get(url=f"{site.base}/a").status == "unchanged"
    assert ("/a", 304) in site.answers
    assert "seam failure" not in " ".join(h.text for h in index_query(SITE, "tent warranty seam failure", n=3))


def test_hostile_pages_are_handled_as_the_crawler_handles_them(site):
    """A script is not indexed as text; a huge page fails with the reason and keeps the last good chunks;
    a page on another host through a redirect is never fetched (the crawler's guards)."""
    site.put(
        "/script",
        "<html><head><title>Hi</title><script>window.secretToken='zz-steal-me'</script></head>"
        f"<body><article><p>Opening hours are 9 to 5 on weekdays.</p><p>{FILLER}</p></article></body>"
        "</html>",
    )
    scripted = site_document_crawl(document_id=_add(f"{site.base}/script").pk)
    assert scripted.status == "ok"
    assert not any("zz-steal-me" in h.text for h in index_query(SITE, "secretToken zz-steal-me window", n=5))
    site.put("/big", _page("Big", "Short for now: our shop opens at 9."))
    big = site_document_crawl(document_id=_add(f"{site.base}/big").pk)
    chunks = big.chunk_count
    site.put("/big", _page("Big", "x" * (6 * 1024 * 1024)))
    big = site_document_crawl(document_id=big.pk)
    assert big.status == "failed" and "larger than" in big.last_error
    big.refresh_from_db()
    assert big.chunk_count == chunks and any(i.startswith(f"site-{big.snapshot_id}-") for i in _site_ids())
    site.put("/image", "PNG", content_type="image/png")
    image = site_document_crawl(document_id=_add(f"{site.base}/image").pk)
    assert image.status == "failed" and "not HTML" in image.last_error


def test_a_private_address_is_refused_unless_allowed(site, settings):
    settings.SITE_CRAWL_ALLOW_PRIVATE = False
    site.put("/a", _page("A", "text"))
    document = site_document_crawl(document_id=_add(f"{site.base}/a").pk)
    assert document.status == "failed" and "private or loopback" in document.last_error and site.hits == []


def test_a_hostile_sitemap_expands_no_entity_and_adds_no_page_of_another_host(site):
    """Billion laughs fails the sitemap with the reason; an external entity (a local file) is not read;
    other hosts' and script URLs are not added; only the shop's own page is."""
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    urlset = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    site.put(
        "/laughs.xml",
        f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY l0 "lol">{laughs}]>{urlset}'
        f"<url><loc>{site.base}/&l9;</loc></url></urlset>",
        content_type="application/xml",
    )
    laughing = site_document_crawl(document_id=_add(f"{site.base}/laughs.xml", kind="sitemap").pk)
    assert laughing.status == "failed" and "not a sitemap" in laughing.last_error
    assert not SiteDocument.objects.filter(parent=laughing).exists()

    site.put("/a", _page("Care", "Wax your leather boots every three months."))
    site.put(
        "/sitemap.xml",
        f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY file SYSTEM "file:///etc/passwd">]>{urlset}'
        f"<url><loc>{site.base}/&file;</loc></url><url><loc>javascript:alert(1)</loc></url>"
        f"<url><loc>http://169.254.169.254/latest/</loc></url><url><loc>{site.base}/a</loc></url></urlset>",
        content_type="application/xml",
    )
    sitemap = site_document_crawl(document_id=_add(f"{site.base}/sitemap.xml", kind="sitemap").pk)
    urls = set(SiteDocument.objects.filter(parent=sitemap).values_list("url", flat=True))
    assert sitemap.status == "ok" and f"{site.base}/a" in urls and not any("root:" in u for u in urls)
    assert not any("169.254" in u or "javascript" in u for u in urls)
    assert SiteDocument.objects.get(url=f"{site.base}/a").status == "ok"
