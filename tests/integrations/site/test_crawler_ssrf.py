"""The site crawler cannot be pointed at our own machine or network (issue item 10).

What the crawler fetches lands in the index the drafter quotes to customers, so a URL that reaches
an internal service leaks it. An attacker who can set the start URL, or who controls a page of the
shop that redirects, writes loopback the ways address parsers accept it: decimal, hex, octal and
short IPv4 forms, `0`, `[::1]`, IPv4-mapped IPv6, userinfo before the host. Each must be refused
before any request is made: the servers here (on 127.0.0.1 and on ::1) count every hit.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations.models import SiteSnapshot
from integrations.site.crawler import site_crawl

pytestmark = pytest.mark.django_db
PAGE = b"<html><head><title>Internal</title></head><body><p>admin token: hunter2</p></body></html>"


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


@pytest.fixture
def internal():
    """The same internal service on 127.0.0.1 and [::1]; `hits` lists every path requested of either."""
    hits: list[str] = []
    redirects: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            if self.path in redirects:
                self.send_response(302)
                self.send_header("Location", redirects[self.path])
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(PAGE)

    servers = [ThreadingHTTPServer(("127.0.0.1", 0), Handler), _IPv6Server(("::1", 0), Handler)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"v4": servers[0].server_address[1], "v6": servers[1].server_address[1], "hits": hits,
           "redirects": redirects}
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_internal_service_answers_when_private_addresses_are_allowed(internal):
    """The control: every URL below does reach the service when the crawl allows private addresses."""
    for url in (f"http://2130706433:{internal['v4']}/", f"http://0x7f000001:{internal['v4']}/",
                f"http://[::1]:{internal['v6']}/", f"http://[::ffff:127.0.0.1]:{internal['v4']}/"):
        report = site_crawl(start=url, delay=0, timeout=2, allow_private=True)
        assert report.fetched == 1, url
    assert len(internal["hits"]) == 8  # robots.txt and the page, each time


@pytest.mark.parametrize("host", [
    "127.0.0.1", "2130706433", "0x7f000001", "0x7f.1", "0177.0.0.1", "017700000001", "127.1", "localhost",
    "0", "shop.example@127.0.0.1", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:127.0.0.1]",
])
def test_loopback_written_any_way_ipv4_parsers_accept_is_refused_before_any_request(internal, host):
    report = site_crawl(start=f"http://{host}:{internal['v4']}/", delay=0, timeout=2)
    assert internal["hits"] == [] and report.fetched == 0
    [snapshot] = SiteSnapshot.objects.all()
    assert snapshot.status == "failed" and "is a private or loopback address" in snapshot.error, snapshot.error


def test_ipv6_loopback_is_refused_before_any_request(internal):
    report = site_crawl(start=f"http://[::1]:{internal['v6']}/", delay=0, timeout=2)
    assert internal["hits"] == [] and report.fetched == 0
    assert "::1 is a private or loopback address" in SiteSnapshot.objects.get().error


@pytest.mark.parametrize("target", [
    "http://2130706433:{v4}/secret", "http://0x7f000001:{v4}/secret", "http://[::1]:{v6}/secret",
    "http://[::ffff:127.0.0.1]:{v4}/secret", "http://127.0.0.1:{v4}@169.254.169.254/latest/meta-data/",
    "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "//[::1]:{v6}/secret",
])
def test_a_page_redirecting_to_a_private_address_is_refused_and_the_target_never_requested(internal, target):
    """The shop's own page (allowed here, as a shop on an internal network would be) answers with a
    redirect to another spelling of an internal address: the crawl stays on its start host."""
    internal["redirects"]["/go"] = target.format(v4=internal["v4"], v6=internal["v6"])
    site_crawl(start=f"http://127.0.0.1:{internal['v4']}/go", delay=0, timeout=2, allow_private=True)
    assert internal["hits"] == ["/robots.txt", "/go"]  # nothing after the redirect
    snapshot = SiteSnapshot.objects.get()
    assert snapshot.status == "failed" and "redirect to another host refused" in snapshot.error, snapshot.error
