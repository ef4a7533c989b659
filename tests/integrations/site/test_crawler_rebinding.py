"""The crawler connects to the address it checked, not to a second DNS answer (DNS rebinding).

A rebinding name (rbndr.us style: `7f000001.5db8d822.rbndr.us` answers 93.184.216.34 or 127.0.0.1,
whichever it feels like, with a zero TTL) passes an address check made with one answer and connects
with the next. The crawler takes its DNS answers from a `resolve` callable (`socket.getaddrinfo` in
production); here a scripted one plays the attacker's DNS server. A real local server holds the page
the attacker is after and counts every request; a real local HTTPS server, with a certificate from
a CA made for the test, shows the pinned connection still speaks to the site by its name.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.management import CommandError, call_command

from integrations.models import SiteSnapshot
from integrations.site.crawler import site_crawl

pytestmark = pytest.mark.django_db
SECRET = b"<html><head><title>Admin</title></head><body><p>db password: correct-horse</p></body></html>"
SHOP = b"<html><head><title>Trail Shop</title></head><body><main><p>Free returns within 30 days.</p></main></body></html>"
REBINDING_NAME = "7f000001.5db8d822.rbndr.us"


def _answer(address: str) -> tuple:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return (family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, 0))


class Resolver:
    """A DNS server the test scripts: `answers[name]` is a list of answers, one per question, the last repeated."""

    def __init__(self, answers: dict[str, list[list[str]]]):
        self.answers = answers
        self.questions: list[str] = []

    def __call__(self, host, port, *args, **kwargs):
        self.questions.append(host)
        script = self.answers.get(host)
        if script is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        asked = self.questions.count(host)
        return [_answer(address) for address in script[min(asked, len(script)) - 1]]


def _serve(handler_body: bytes, *, tls: ssl.SSLContext | None = None):
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            seen.append({"path": self.path, "host": self.headers.get("Host")})
            body = handler_body if self.path != "/robots.txt" else b"User-agent: *\nAllow: /\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8" if self.path != "/robots.txt" else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


@pytest.fixture
def internal():
    """The service the attacker wants: on loopback, counting every request."""
    server, seen = _serve(SECRET)
    yield {"port": server.server_address[1], "seen": seen}
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("name", [REBINDING_NAME, "localhost"])
def test_a_name_that_rebinds_to_loopback_never_reaches_the_internal_service(internal, name):
    """First answer public (the check passes), every later one 127.0.0.1: had the connection asked
    DNS again, it would have fetched the secret page. Each request asks once, connects to that answer
    (a public address, unreachable from here) or is refused for the loopback one. `localhost` is the
    name this machine's own resolver turns into 127.0.0.1: a connection that resolved the name itself
    instead of using the checked answer would reach the service."""
    dns = Resolver({name: [["93.184.216.34"], ["127.0.0.1"]]})
    report = site_crawl(start=f"http://{name}:{internal['port']}/", delay=0, timeout=1, resolve=dns)
    assert internal["seen"] == []
    assert report.fetched == 0
    assert dns.questions == [name, name]  # robots.txt, then the page: one question each
    snapshot = SiteSnapshot.objects.get()
    assert snapshot.status == "failed" and "127.0.0.1 is a private or loopback address" in snapshot.error, snapshot.error
    assert "correct-horse" not in snapshot.error


def test_an_answer_mixing_a_public_and_a_loopback_address_is_refused(internal):
    dns = Resolver({"shop.attacker.example": [["93.184.216.34", "127.0.0.1"]]})
    report = site_crawl(start=f"http://shop.attacker.example:{internal['port']}/", delay=0, timeout=1, resolve=dns)
    assert internal["seen"] == [] and report.fetched == 0
    assert "127.0.0.1 is a private or loopback address" in SiteSnapshot.objects.get().error


def test_the_connection_goes_to_the_answer_that_was_checked_even_when_private_addresses_are_allowed(internal):
    """The control, and the pin itself: allowed, the name reaches the server through the one address it
    resolved to, and the server is asked for the site by its name."""
    dns = Resolver({"shop.internal.example": [["127.0.0.1"]]})
    report = site_crawl(start=f"http://shop.internal.example:{internal['port']}/", delay=0, timeout=2,
                        resolve=dns, allow_private=True)
    assert report.fetched == 1
    assert internal["seen"] == [{"path": "/robots.txt", "host": f"shop.internal.example:{internal['port']}"},
                                {"path": "/", "host": f"shop.internal.example:{internal['port']}"}]


def _certificate(tmp_path, name: str) -> tuple[str, ssl.SSLContext]:
    """A CA (its PEM path, for the crawler to trust) and a server context whose certificate names `name`."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test shop CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_path, cert_path, key_path = tmp_path / "ca.pem", tmp_path / "shop.pem", tmp_path / "shop.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return str(ca_path), context


def _trusting(ca_path: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE, when set, overrides `verify` (requests' precedence)
    session.verify = ca_path
    return session


@pytest.fixture
def https_shop(tmp_path):
    """The shop over HTTPS on loopback, with a certificate for shop.example; `sni` lists the names clients sent."""
    def start(name: str):
        ca_path, context = _certificate(tmp_path, name)
        sni: list[str | None] = []
        context.sni_callback = lambda _sock, server_name, _ctx: sni.append(server_name)
        server, seen = _serve(SHOP, tls=context)
        servers.append(server)
        return {"port": server.server_address[1], "ca": ca_path, "seen": seen, "sni": sni}

    servers: list[ThreadingHTTPServer] = []
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_pinned_https_fetch_speaks_to_the_site_by_its_name(https_shop):
    """Connected to 127.0.0.1, the crawler still sends SNI shop.example, checks the certificate against
    shop.example (signed by a CA it trusts) and asks for Host shop.example."""
    shop = https_shop("shop.example")
    session = _trusting(shop["ca"])
    dns = Resolver({"shop.example": [["127.0.0.1"]]})
    report = site_crawl(start=f"https://shop.example:{shop['port']}/", delay=0, timeout=5, session=session,
                        resolve=dns, allow_private=True)
    assert report.fetched == 1, SiteSnapshot.objects.values_list("error", flat=True)
    assert [seen["host"] for seen in shop["seen"]] == [f"shop.example:{shop['port']}"] * 2
    assert set(shop["sni"]) == {"shop.example"}
    assert SiteSnapshot.objects.get(status="ok").url == f"https://shop.example:{shop['port']}/"


def test_a_certificate_for_another_name_is_refused_though_the_address_is_the_pinned_one(https_shop):
    """Hostname verification is against the site's name: the address matching is not enough."""
    shop = https_shop("other.example")
    session = _trusting(shop["ca"])
    dns = Resolver({"shop.example": [["127.0.0.1"]]})
    report = site_crawl(start=f"https://shop.example:{shop['port']}/", delay=0, timeout=5, session=session,
                        resolve=dns, allow_private=True)
    assert report.fetched == 0 and shop["seen"] == []
    error = SiteSnapshot.objects.get().error
    assert "SSLError" in error and "shop.example" in error, error



def test_ingest_site_fetches_its_sitemap_with_the_same_guards(internal):
    """The operator's --sitemap is fetched through a pinned session too: on loopback it needs --allow-private."""
    sitemap = f"http://127.0.0.1:{internal['port']}/sitemap.xml"
    with pytest.raises(CommandError, match="127.0.0.1 is a private or loopback address"):
        call_command("ingest_site", "--start", "https://shop.example/", "--sitemap", sitemap, "--delay", "0")
    assert internal["seen"] == []
