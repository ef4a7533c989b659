"""Crawling a small site served by a local HTTP server into snapshots and the site index."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command

from assistants.vectorstore import SITE, index_count, index_query, index_reset
from integrations.models import SiteSnapshot
from integrations.site.crawler import site_crawl

pytestmark = pytest.mark.django_db

LONG = " ".join(["Our outdoor gear is tested in the Lake District before it reaches the shop."] * 3)
PAGES = {
    "/": ("text/html", f"<html><head><title>Demo Shop</title></head><body><main><h1>Welcome</h1><p>{LONG}</p>"
          "<a href='/shipping'>Shipping</a> <a href='/returns'>Returns</a> <a href='/old-returns'>Old</a>"
          "<a href='/missing'>Missing</a> <a href='/empty'>Empty</a> <a href='/logo.png'>Logo</a>"
          "<a href='https://other.example/'>Elsewhere</a> <a href='/private/notes'>Private</a>"
          "<a href='/loop-a'>Loop</a></main></body></html>"),
    "/shipping": ("text/html", "<html><head><title>Shipping</title></head><body><article><h1>Shipping</h1>"
                  "<p>Orders ship within 1-2 business days. Standard delivery takes 3-5 business days in the UK "
                  "and 5-8 business days to the EU. Express delivery arrives the next working day.</p>"
                  f"<p>{LONG}</p></article></body></html>"),
    "/returns": ("text/html", "<html><head><title>Returns</title></head><body><article><h1>Returns</h1>"
                 "<p>You can return unused items within 30 days of delivery for a full refund. Start the return "
                 f"from your order page and we email you a prepaid label.</p><p>{LONG}</p></article></body></html>"),
    "/empty": ("text/html", "<html><body></body></html>"),
    "/logo.png": ("image/png", "PNG"),
    "/robots.txt": ("text/plain", "User-agent: *\nDisallow: /private/\n"),
    "/private/notes": ("text/html", "<html><body><p>secret</p></body></html>"),
}
REDIRECTS = {"/old-returns": "/returns", "/loop-a": "/loop-b", "/loop-b": "/loop-a",
             # Not linked from the pages: crawled only where a test asks for them.
             "/to-other-name": "http://localhost:{port}/shipping", "/to-metadata": "http://169.254.169.254/latest/",
             "/to-script": "javascript:alert(1)"}


@pytest.fixture
def site():
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            if self.path in REDIRECTS:
                self.send_response(301)
                self.send_header("Location", REDIRECTS[self.path].format(port=self.server.server_address[1]))
                self.end_headers()
                return
            if self.path not in PAGES:
                self.send_response(404)
                self.end_headers()
                self.wfile.write(b"not found")
                return
            content_type, body = PAGES[self.path]
            self.send_response(200)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.end_headers()
            self.wfile.write(body.encode())

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def test_a_crawl_keeps_snapshots_indexes_text_and_records_every_failure(site):
    base, hits = site
    report = site_crawl(start=f"{base}/", delay=0, timeout=2, allow_private=True)
    ok = {s.url.replace(base, "") for s in SiteSnapshot.objects.filter(status="ok")}
    assert ok == {"/", "/shipping", "/returns", "/empty"}
    failed = {s.url.replace(base, ""): s.error for s in SiteSnapshot.objects.filter(status="failed")}
    assert "HTTP 404" in failed["/missing"] and "not HTML" in failed["/logo.png"]
    assert "TooManyRedirects" in failed["/loop-a"]
    assert report.skipped_by_robots == 1 and "/private/notes" not in hits
    assert not any("other.example" in s.url for s in SiteSnapshot.objects.all())
    assert SiteSnapshot.objects.get(url=f"{base}/empty").chunk_count == 0
    hit = index_query(SITE, "how many days do I have to return an item for a refund", n=1)[0]
    assert hit.metadata["url"] == f"{base}/returns" and "30 days" in hit.text
    assert hit.metadata["snapshot_id"] == SiteSnapshot.objects.get(url=f"{base}/returns", status="ok").pk


def test_an_unchanged_page_is_not_embedded_again(site):
    base, _ = site
    site_crawl(start=f"{base}/", delay=0, timeout=2, allow_private=True)
    chunks = index_count(SITE)
    report = site_crawl(start=f"{base}/", delay=0, timeout=2, allow_private=True)
    assert report.fetched == 0 and report.unchanged == 4 and index_count(SITE) == chunks


def test_rehydrate_rebuilds_the_index_from_snapshots_after_losing_chroma(site):
    base, _ = site
    call_command("ingest_site", "--start", f"{base}/", "--delay", "0", "--allow-private")
    before = index_count(SITE)
    index_reset(SITE)
    assert index_count(SITE) == 0
    call_command("rehydrate_chroma")
    assert index_count(SITE) == before
    assert index_query(SITE, "express delivery next working day", n=1)[0].metadata["url"] == f"{base}/shipping"


def test_a_redirect_to_another_host_is_refused_and_recorded(site):
    """The same server under another name (localhost), a cloud metadata address, a script URL: none is
    fetched, each is a failed snapshot naming the refusal."""
    base, hits = site
    extra = [f"{base}/to-other-name", f"{base}/to-metadata", f"{base}/to-script"]
    report = site_crawl(start=f"{base}/empty", delay=0, timeout=2, allow_private=True, extra_urls=extra)
    failed = {s.url.replace(base, ""): s.error for s in SiteSnapshot.objects.filter(status="failed")}
    assert "redirect to another host refused: localhost:" in failed["/to-other-name"]
    assert "redirect to another host refused: 169.254.169.254" in failed["/to-metadata"]
    assert "redirect to a non-http URL refused" in failed["/to-script"]
    assert hits.count("/shipping") == 0 and len(report.failed) == 3
    assert not SiteSnapshot.objects.filter(url__contains="localhost").exists()


def test_a_site_on_a_private_or_loopback_address_is_refused_unless_allowed(site):
    base, hits = site
    report = site_crawl(start=f"{base}/", delay=0, timeout=2)
    assert hits == [] and report.fetched == 0
    [snapshot] = SiteSnapshot.objects.all()
    assert snapshot.status == "failed" and "127.0.0.1 is a private or loopback address" in snapshot.error
