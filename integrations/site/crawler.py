"""Crawling the store's own website into snapshots and the SITE collection.

Same host only, robots.txt respected, a polite delay between requests, timeouts and a size cap;
redirect loops, timeouts, non-HTML and huge pages become failed snapshots with the reason.
Redirects are followed one hop at a time and only on the start's host: a page of the shop that
redirects to another host (a cloud metadata address, an internal service) is refused, since what
is fetched lands in the index the drafter quotes to customers. For the same reason every fetch is
refused when the host resolves to a private, loopback, link-local or reserved address, unless the
crawl allows it (`ingest_site --allow-private`, for a shop site on an internal network or in tests).
The address is pinned, not just checked (DNS rebinding): every request, each redirect hop included,
goes through `PinnedAdapter`, which resolves the host once, refuses the request if any answer is
private, and connects only to the addresses it checked (the next one when the first refuses), with
the original host kept for the `Host` header, TLS SNI and certificate verification, so a second DNS
answer is never asked for. No proxy is used (a proxy would resolve the name again). The
HTML of every fetched page is kept in the blob store (content-addressed); an unchanged page
(same sha256 as its last snapshot) is recorded as `unchanged` and not re-embedded. Main text
comes from trafilatura, chunked by paragraphs into ~1,200-character pieces.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import time
import urllib.robotparser
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urljoin, urlparse

import lxml.html
import requests
import trafilatura
from django.utils import timezone
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError

from assistants.vectorstore import SITE, IndexItem, index_delete, index_reset, index_upsert
from integrations.models import SiteDocument, SiteSnapshot
from omnichannel.blobstore import blob_get, blob_put

USER_AGENT = "omnichannel-support-assistant/1.0 (+site ingest)"
MAX_BYTES = 5 * 1024 * 1024
CHUNK_CHARS = 1200


@dataclass
class CrawlReport:
    fetched: int = 0
    unchanged: int = 0
    failed: list[str] = field(default_factory=list)
    chunks: int = 0
    skipped_by_robots: int = 0


def chunks_of(text: str, size: int = CHUNK_CHARS) -> list[str]:
    pieces, current = [], ""
    for paragraph in [p.strip() for p in text.split("\n") if p.strip()]:
        if current and len(current) + len(paragraph) + 1 > size:
            pieces.append(current)
            current = ""
        current = f"{current}\n{paragraph}".strip()
        while len(current) > size:  # one very long paragraph
            pieces.append(current[:size])
            current = current[size:]
    if current:
        pieces.append(current)
    return pieces


def html_title(html: str) -> str:
    try:
        found = lxml.html.fromstring(html).findtext(".//title")
    except (ValueError, lxml.etree.ParserError):
        return ""
    return " ".join((found or "").split())[:500]


def _links(base: str, html: str) -> list[str]:
    try:
        doc = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return []
    return [urldefrag(urljoin(base, href))[0] for href in doc.xpath("//a/@href")]


def index_snapshot(snapshot: SiteSnapshot, html: str) -> int:
    text = trafilatura.extract(html, include_comments=False, include_tables=True) or ""
    pieces = chunks_of(text)
    index_upsert(SITE, [IndexItem(f"site-{snapshot.pk}-{i}", piece,
                                  {"snapshot_id": snapshot.pk, "url": snapshot.url, "title": snapshot.title})
                        for i, piece in enumerate(pieces)])
    return len(pieces)


def snapshot_store(url: str, content: bytes, html: str, *, content_type: str, sha256: str,
                   previous: SiteSnapshot | None = None) -> SiteSnapshot:
    """Keep a new version of a page: its bytes in the blob store, an `ok` snapshot, its chunks
    indexed, and the chunks of the version it replaces (`previous`) removed."""
    blob = blob_put(content, prefix="site")
    snapshot = _record(url, status=SiteSnapshot.Status.OK, http_status=200, content_type=content_type,
                       sha256=sha256, blob_key=blob.key, title=html_title(html))
    if previous is not None:
        index_delete(SITE, [f"site-{previous.pk}-{i}" for i in range(previous.chunk_count)])
    snapshot.chunk_count = index_snapshot(snapshot, html)
    SiteSnapshot.objects.filter(pk=snapshot.pk).update(chunk_count=snapshot.chunk_count)
    return snapshot


class FetchRefused(ValueError):
    """A URL the crawl will not request; recorded on a failed snapshot with this message."""


# The resolver seam: `socket.getaddrinfo`'s signature. Tests pass a resolver whose answers change
# between calls (a rebinding DNS server) without touching the system's DNS.
Resolver = Callable[..., list[tuple[Any, ...]]]


def _checked_addresses(host: str, *, resolve: Resolver, allow_private: bool) -> list[str]:
    """Resolve `host` once and return every address it answered, in order, each checked; refused when
    any answer is private/loopback/link-local/reserved (an attacker's name can answer one public and one
    private address), unless `allow_private`."""
    try:
        infos = resolve(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchRefused(f"host {host!r} cannot be resolved: {exc}") from None
    if not infos:
        raise FetchRefused(f"host {host!r} cannot be resolved: no address")
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if address.version == 6 and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not allow_private and (not address.is_global or address.is_multicast):
            raise FetchRefused(f"{address} is a private or loopback address ({host}); "
                               "ingest_site --allow-private crawls it")
    return list(dict.fromkeys(info[4][0] for info in infos))


def _not_connected(exc: requests.ConnectionError) -> bool:
    """The connection was never opened (refused, unreachable, timed out connecting): nothing was sent."""
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return isinstance(reason, ConnectTimeoutError)  # NewConnectionError (refused, unreachable) is one too


class PinnedAdapter(HTTPAdapter):
    """A transport that connects only to addresses it checked, never to a second DNS answer.

    `send` resolves the URL's host once through `resolve` and refuses the request if any answer is
    private; it connects to the first answer, and to the next checked one only when a connection
    could not be opened there (refused, unreachable). The urllib3 pool is keyed on the address
    (`build_connection_pool_key_attributes`), so the socket goes exactly there. The name stays what
    the server sees and what TLS checks: the `Host` header (`add_headers`), SNI (`server_hostname`)
    and the certificate's hostname (`assert_hostname`).
    Proxies are ignored: a proxy would resolve the name itself.
    """

    def __init__(self, *, allow_private: bool = False, resolve: Resolver = socket.getaddrinfo):
        self.allow_private = allow_private
        self.resolve = resolve
        super().__init__()

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        hostname = urlparse(request.url).hostname or ""
        addresses = _checked_addresses(hostname, resolve=self.resolve, allow_private=self.allow_private)
        for address in addresses[:-1]:
            try:
                return self._send_to(address, request, stream=stream, timeout=timeout, verify=verify, cert=cert)
            except requests.ConnectionError as exc:
                # Only a connection never opened moves on to the next checked answer: once the request
                # may have been sent, another address would send it twice.
                if not _not_connected(exc):
                    raise
        return self._send_to(addresses[-1], request, stream=stream, timeout=timeout, verify=verify, cert=cert)

    def _send_to(self, address: str, request, **kwargs):
        request.pinned_address = address
        return super().send(request, proxies={}, **kwargs)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        address = getattr(request, "pinned_address", None)
        if address is None:  # only `send` may open a connection: it is the one that checked the address
            raise FetchRefused(f"no checked address for {request.url[:200]}")
        hostname = host_params["host"]
        host_params["host"] = address
        if host_params["scheme"] == "https" and hostname != address:
            pool_kwargs["server_hostname"] = hostname  # SNI
            pool_kwargs["assert_hostname"] = hostname  # the certificate must name the host, not the address
        return host_params, pool_kwargs

    def add_headers(self, request, **kwargs):
        parts = urlparse(request.url)
        host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname or ""
        default_port = {"http": 80, "https": 443}.get(parts.scheme)
        request.headers["Host"] = host if parts.port in (None, default_port) else f"{host}:{parts.port}"


def crawl_session(*, allow_private: bool = False, resolve: Resolver = socket.getaddrinfo,
                  session: requests.Session | None = None) -> requests.Session:
    """A session whose every request is checked and pinned (`PinnedAdapter`)."""
    session = session or requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    session.max_redirects = 5  # a redirect loop ends as TooManyRedirects, recorded on the snapshot
    adapter = PinnedAdapter(allow_private=allow_private, resolve=resolve)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _check_destination(url: str, *, host: str) -> None:
    parts = urlparse(url)
    if parts.scheme not in ("http", "https"):
        raise FetchRefused(f"redirect to a non-http URL refused: {url[:200]}")
    if parts.netloc != host:
        raise FetchRefused(f"redirect to another host refused: {parts.netloc[:200]} (the crawl stays on {host})")


def _fetch(session: requests.Session, url: str, timeout: float, *, host: str,
           headers: dict[str, str] | None = None) -> requests.Response:
    """GET a page, following at most `session.max_redirects` redirects, each checked before it is requested
    (scheme and host here, the address by the session's `PinnedAdapter`, for the connection it opens).
    `headers` go with every request (a conditional GET's If-None-Match / If-Modified-Since)."""
    for _ in range(session.max_redirects + 1):
        _check_destination(url, host=host)
        if not isinstance(session.get_adapter(url), PinnedAdapter):
            raise FetchRefused("the session does not pin addresses (use crawl_session)")
        response = session.get(url, timeout=timeout, stream=True, allow_redirects=False, headers=headers)
        if response.is_redirect:
            response.close()
            url = urldefrag(urljoin(url, response.headers["Location"]))[0]
            continue
        body = b""
        for part in response.iter_content(65536):
            body += part
            if len(body) > MAX_BYTES:
                response.close()
                raise ValueError(f"page larger than {MAX_BYTES} bytes")
        response._content = body
        return response
    raise requests.TooManyRedirects(f"Exceeded {session.max_redirects} redirects.")


def _record(url: str, **fields) -> SiteSnapshot:
    return SiteSnapshot.objects.create(url=url[:2000], fetched_at=timezone.now(), **fields)


def site_crawl(*, start: str, max_pages: int = 200, delay: float = 1.0, timeout: float = 10.0,
               extra_urls: list[str] | None = None, session: requests.Session | None = None,
               progress: Callable[[str], None] | None = None, allow_private: bool = False,
               resolve: Resolver = socket.getaddrinfo) -> CrawlReport:
    """`session` may carry TLS settings (`verify`); its http(s) transports are replaced by pinned ones.
    `resolve` answers the DNS questions (`socket.getaddrinfo` unless a test scripts the answers)."""
    session = crawl_session(allow_private=allow_private, resolve=resolve, session=session)
    host = urlparse(start).netloc
    fetch = lambda url: _fetch(session, url, timeout, host=host)  # noqa: E731
    robots = urllib.robotparser.RobotFileParser()
    try:
        robots_answer = fetch(urljoin(start, "/robots.txt"))
        robots.parse(robots_answer.text.splitlines() if robots_answer.status_code == 200 else [])
    except (requests.RequestException, ValueError):
        robots.parse([])
    report, seen = CrawlReport(), set()
    queue = deque([start, *(extra_urls or [])])
    while queue and len(seen) < max_pages:
        url = queue.popleft()
        if url in seen or urlparse(url).netloc != host or urlparse(url).scheme not in ("http", "https"):
            continue
        seen.add(url)
        if not robots.can_fetch(USER_AGENT, url):
            report.skipped_by_robots += 1
            continue
        if len(seen) > 1 and delay:
            time.sleep(delay)  # polite: one request at a time, spaced
        if progress:
            progress(url)
        try:
            response = fetch(url)
        except (requests.RequestException, ValueError) as exc:
            _record(url, status=SiteSnapshot.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
            report.failed.append(url)
            continue
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        if response.status_code != 200 or content_type not in ("text/html", "application/xhtml+xml"):
            reason = f"HTTP {response.status_code}" if response.status_code != 200 else f"not HTML ({content_type})"
            _record(url, status=SiteSnapshot.Status.FAILED, http_status=response.status_code,
                    content_type=content_type[:100], error=reason)
            report.failed.append(url)
            continue
        final_url = response.url
        if final_url != url:
            if final_url in seen:
                continue  # a redirect to a page this crawl already has
            seen.add(final_url)
        html = response.text
        digest = hashlib.sha256(response.content).hexdigest()
        last = SiteSnapshot.objects.filter(url=final_url, status__in=["ok", "unchanged"]).order_by("-fetched_at").first()
        if last is not None and last.sha256 == digest:
            _record(final_url, status=SiteSnapshot.Status.UNCHANGED, http_status=200, content_type=content_type,
                    sha256=digest, blob_key=last.blob_key, title=last.title, chunk_count=last.chunk_count)
            report.unchanged += 1
        else:
            snapshot = snapshot_store(final_url, response.content, html, content_type=content_type, sha256=digest,
                                      previous=last)
            report.fetched += 1
            report.chunks += snapshot.chunk_count
        queue.extend(link for link in _links(final_url, html) if link not in seen)
    return report


def site_rehydrate() -> int:
    """Rebuild the SITE collection from the newest good snapshot of every URL (Chroma is derived data),
    except the pages Ops removed as site documents (integrations/site/documents.py)."""
    index_reset(SITE)
    total = 0
    removed = set(SiteDocument.objects.filter(status=SiteDocument.Status.REMOVED).values_list("url", flat=True))
    newest: dict[str, SiteSnapshot] = {}
    for snapshot in SiteSnapshot.objects.filter(status=SiteSnapshot.Status.OK).order_by("fetched_at"):
        if snapshot.url not in removed:
            newest[snapshot.url] = snapshot
    for snapshot in newest.values():
        total += index_snapshot(snapshot, blob_get(snapshot.blob_key).decode("utf-8", errors="replace"))
    return total
