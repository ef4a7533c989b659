"""The crawler checks every address a name resolves to, and connects only to checked ones.

An attacker's DNS can answer a public address together with a private one (the metadata service, a
loopback admin page); the crawl must refuse the name whichever order they come in, before any
connection. A shop whose name answers two addresses, the first of them down, is still crawled through
the second. DNS is a scripted resolver (the crawler's `resolve` seam, `socket.getaddrinfo` in
production); the pages come from a real local server that counts every request.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations.models import SiteSnapshot
from integrations.site.crawler import site_crawl

pytestmark = pytest.mark.django_db
PAGE = b"<html><head><title>Trail Shop</title></head><body><main><p>Free returns within 30 days.</p></main></body></html>"


class ScriptedDns:
    """Answers every question about `name` with `addresses`, in that order, and records the questions."""

    def __init__(self, name: str, addresses: list[str]):
        self.name, self.addresses, self.questions = name, addresses, []

    def __call__(self, host, port, *args, **kwargs):
        self.questions.append(host)
        if host != self.name:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (a, 0))
                for a in self.addresses]


@pytest.fixture
def server():
    """A site on 127.0.0.1 only (127.0.0.2, also loopback, refuses connections on its port)."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            seen.append(self.path)
            body = PAGE if self.path != "/robots.txt" else b"User-agent: *\nAllow: /\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield {"port": httpd.server_address[1], "seen": seen}
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(("answers", "private"), [
    (["93.184.216.34", "127.0.0.1"], "127.0.0.1"),
    (["127.0.0.1", "93.184.216.34"], "127.0.0.1"),
    (["93.184.216.34", "2606:2800:220:1::1", "::ffff:127.0.0.1"], "127.0.0.1"),  # IPv4-mapped loopback
    (["93.184.216.34", "169.254.169.254"], "169.254.169.254"),  # the cloud metadata service
    (["93.184.216.34", "10.0.0.5"], "10.0.0.5"),
])
def test_a_name_answering_a_public_and_a_private_address_is_refused_before_any_connection(server, answers, private):
    dns = ScriptedDns("shop.attacker.example", answers)
    report = site_crawl(start=f"http://shop.attacker.example:{server['port']}/", delay=0, timeout=1, resolve=dns)
    assert server["seen"] == [] and report.fetched == 0
    error = SiteSnapshot.objects.get().error
    assert f"{private} is a private or loopback address" in error, error


def test_a_shop_whose_first_address_refuses_is_crawled_through_the_next_checked_one(server):
    dns = ScriptedDns("shop.internal.example", ["127.0.0.2", "127.0.0.1"])
    report = site_crawl(start=f"http://shop.internal.example:{server['port']}/", delay=0, timeout=2,
                        resolve=dns, allow_private=True)
    assert report.fetched == 1, report.failed
    assert server["seen"] == ["/robots.txt", "/"]
    assert dns.questions == ["shop.internal.example", "shop.internal.example"]  # one per request, no more


def test_when_every_checked_address_refuses_the_page_fails_without_asking_dns_again(server):
    dns = ScriptedDns("shop.internal.example", ["127.0.0.2", "127.0.0.3"])
    report = site_crawl(start=f"http://shop.internal.example:{server['port']}/", delay=0, timeout=2,
                        resolve=dns, allow_private=True)
    assert report.fetched == 0 and server["seen"] == []
    assert SiteSnapshot.objects.get().status == "failed"
    assert dns.questions == ["shop.internal.example", "shop.internal.example"]
