"""Site documents: the pages and sitemaps of the shop's site Ops keep indexed, added and removed from
the admin or the API, re-crawled on a schedule (`crawl_site_documents`) or on request.

A re-crawl asks only for what changed: a conditional GET (If-None-Match / If-Modified-Since from the
last answer). A 304, or a 200 whose bytes hash as before, re-indexes nothing; a changed page replaces
its own chunks only (the crawler's `snapshot_store`). A sitemap is fetched the same way and expands
into page documents of its own (same host only, at most SITE_SITEMAP_MAX_PAGES); a page it no longer
lists is removed. Every fetch goes through the crawler's `_fetch`, with its guards: the host resolved
once per request, its addresses checked and the connection pinned to the checked one, redirects one
hop at a time on the same host, a size cap. Removing a document drops its chunks from the index. A
failed crawl keeps the last good chunks.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urldefrag, urlparse

import lxml.etree
import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from assistants.vectorstore import SITE, index_delete
from integrations.models import SiteDocument
from integrations.site.crawler import _fetch, crawl_session, snapshot_store
from omnichannel.audit import audit_log_write
from omnichannel.errors import ApplicationError, StateConflict
from omnichannel.jobs import enqueue
from omnichannel.task_names import TaskName

HTML_TYPES = ("text/html", "application/xhtml+xml")
XML_TYPES = ("application/xml", "text/xml")


def _clean_url(url: str) -> str:
    url = urldefrag((url or "").strip())[0]
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApplicationError(f"not an http(s) URL: {url[:200]!r}")
    if len(url) > 2000:
        raise ApplicationError("the URL is longer than 2,000 characters")
    return url


def site_document_add(
    *, url: str, kind: str = SiteDocument.Kind.PAGE, acting_user=None, parent: SiteDocument | None = None, crawl: bool = True
) -> SiteDocument:
    """Add a page or sitemap URL (a removed one comes back); its first crawl is queued after the commit."""
    url = _clean_url(url)
    if kind not in SiteDocument.Kind.values:
        raise ApplicationError(f"kind must be one of {', '.join(SiteDocument.Kind.values)}")
    with transaction.atomic():
        document, created = SiteDocument.objects.select_for_update().get_or_create(
            url=url, defaults={"kind": kind, "parent": parent, "created_by": acting_user}
        )
        if not created and document.status != SiteDocument.Status.REMOVED:
            if parent is None:
                raise StateConflict(f"{url[:200]} is already a site document")
            return document
        if not created:
            SiteDocument.objects.filter(pk=document.pk).update(
                kind=kind,
                parent=parent,
                status=SiteDocument.Status.PENDING,
                etag="",
                last_modified="",
                content_sha256="",
                last_error="",
            )
            document.refresh_from_db()
        audit_log_write(
            event_type="site_document.added",
            payload={"url": url, "kind": kind},
            acting_user=acting_user,
            integration=None if acting_user else "site",
            obj=document,
        )
        if crawl:
            enqueue(TaskName.CRAWL_SITE_DOCUMENTS, document.pk)
    return document


def _drop_chunks(document: SiteDocument) -> None:
    if document.snapshot_id and document.chunk_count:
        index_delete(SITE, [f"site-{document.snapshot_id}-{i}" for i in range(document.chunk_count)])


def site_document_remove(*, document_id: int, acting_user=None) -> SiteDocument:
    """Remove a document: its chunks leave the index (a sitemap's pages go with it); its snapshots stay."""
    with transaction.atomic():
        document = SiteDocument.objects.select_for_update().get(pk=document_id)
        if document.status == SiteDocument.Status.REMOVED:
            return document
        _drop_chunks(document)
        SiteDocument.objects.filter(pk=document.pk).update(
            status=SiteDocument.Status.REMOVED, snapshot=None, chunk_count=0, etag="", last_modified="", content_sha256=""
        )
        audit_log_write(
            event_type="site_document.removed",
            payload={"url": document.url, "kind": document.kind},
            acting_user=acting_user,
            integration=None if acting_user else "site",
            obj=document,
        )
        for page_id in document.pages.exclude(status=SiteDocument.Status.REMOVED).values_list("pk", flat=True):
            site_document_remove(document_id=page_id, acting_user=acting_user)
    document.refresh_from_db()
    return document


def site_document_recrawl_request(*, document_id: int, acting_user) -> SiteDocument:
    """ "Re-crawl now": the crawl is queued (it may take a while for a sitemap), with an audit row."""
    with transaction.atomic():
        document = SiteDocument.objects.get(pk=document_id)
        if document.status == SiteDocument.Status.REMOVED:
            raise StateConflict(f"{document.url[:200]} was removed: add it again to crawl it")
        audit_log_write(
            event_type="site_document.recrawl_requested",
            payload={"url": document.url},
            acting_user=acting_user,
            obj=document,
        )
        enqueue(TaskName.CRAWL_SITE_DOCUMENTS, document.pk)
    return document


def _session() -> requests.Session:
    return crawl_session(allow_private=settings.SITE_CRAWL_ALLOW_PRIVATE)


def _save(document: SiteDocument, *, audit: str = "", **fields) -> bool:
    """Record a crawl's outcome; False when the document was removed meanwhile (nothing recorded)."""
    fields["last_crawled_at"] = timezone.now()
    with transaction.atomic():
        kept = SiteDocument.objects.filter(pk=document.pk).exclude(status=SiteDocument.Status.REMOVED).update(**fields)
        if not kept:
            return False
        if audit:
            audit_log_write(
                event_type=f"site_document.{audit}",
                integration="site",
                obj=document,
                payload={
                    "url": document.url,
                    **{k: v for k, v in fields.items() if k in ("status", "chunk_count", "last_error", "content_sha256")},
                },
            )
    for name, value in fields.items():
        setattr(document, name, value)
    return True


def site_document_crawl(*, document_id: int, timeout: float = 10.0, session: requests.Session | None = None) -> SiteDocument:
    """Fetch one document if it changed; re-index it (a page) or expand it (a sitemap). Never raises
    for what the site answers: a failure is the document's status and `last_error`."""
    document = SiteDocument.objects.get(pk=document_id)
    if document.status == SiteDocument.Status.REMOVED:
        return document
    session = session or _session()
    headers = {}
    if document.content_sha256:  # conditions only when the text they stand for is still here
        if document.etag:
            headers["If-None-Match"] = document.etag
        if document.last_modified:
            headers["If-Modified-Since"] = document.last_modified
    try:
        response = _fetch(
            session,
            document.url,
            timeout,
            host=urlparse(document.url).netloc,
            headers=headers or None,
        )
    except (requests.RequestException, ValueError) as exc:
        return _failed(document, f"{type(exc).__name__}: {exc}")
    if response.status_code == 304 and headers:
        _save(document, status=SiteDocument.Status.UNCHANGED, last_error="")
    else:
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if response.status_code != 200:
            return _failed(document, f"HTTP {response.status_code}")
        validators = {
            "etag": response.headers.get("ETag", "")[:500],
            "last_modified": response.headers.get("Last-Modified", "")[:100],
        }
        if document.kind == SiteDocument.Kind.SITEMAP:
            _sitemap_crawled(document, response, content_type, validators)
        else:
            _page_crawled(document, response, content_type, validators)
    if document.kind == SiteDocument.Kind.SITEMAP and document.status != SiteDocument.Status.FAILED:
        for page_id in document.pages.exclude(status=SiteDocument.Status.REMOVED).values_list("pk", flat=True):
            site_document_crawl(document_id=page_id, timeout=timeout, session=session)
    return document


def _failed(document: SiteDocument, reason: str) -> SiteDocument:
    changed = document.status != SiteDocument.Status.FAILED or document.last_error != reason[:2000]
    _save(document, audit="crawl_failed" if changed else "", status=SiteDocument.Status.FAILED, last_error=reason[:2000])
    return document


def _page_crawled(document: SiteDocument, response: requests.Response, content_type: str, validators: dict) -> None:
    if content_type not in HTML_TYPES:
        _failed(document, f"not HTML ({content_type[:100]})")
        return
    digest = hashlib.sha256(response.content).hexdigest()
    if digest == document.content_sha256 and document.snapshot_id:
        _save(document, status=SiteDocument.Status.UNCHANGED, last_error="", **validators)
        return
    snapshot = snapshot_store(
        document.url, response.content, response.text, content_type=content_type, sha256=digest, previous=document.snapshot
    )
    if not _save(
        document,
        audit="indexed",
        status=SiteDocument.Status.OK,
        last_error="",
        content_sha256=digest,
        snapshot=snapshot,
        chunk_count=snapshot.chunk_count,
        **validators,
    ):
        # Removed while it was fetched: its new chunks go too.
        index_delete(SITE, [f"site-{snapshot.pk}-{i}" for i in range(snapshot.chunk_count)])


def _sitemap_crawled(document: SiteDocument, response: requests.Response, content_type: str, validators: dict) -> None:
    if content_type not in XML_TYPES:
        _failed(document, f"not XML ({content_type[:100]})")
        return
    digest = hashlib.sha256(response.content).hexdigest()
    if digest == document.content_sha256:
        _save(document, status=SiteDocument.Status.UNCHANGED, last_error="", **validators)
        return
    try:
        parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        root = lxml.etree.fromstring(response.content, parser=parser)
    except lxml.etree.XMLSyntaxError as exc:
        _failed(document, f"not a sitemap: {exc}")
        return
    host = urlparse(document.url).netloc
    found: dict[str, None] = {}  # in the sitemap's order, once each
    for loc in root.iter("{*}loc"):
        url = urldefrag((loc.text or "").strip())[0]
        if urlparse(url).scheme in ("http", "https") and urlparse(url).netloc == host and len(url) <= 2000:
            found[url] = None
            if len(found) >= settings.SITE_SITEMAP_MAX_PAGES:
                break
    listed = list(found)
    with transaction.atomic():
        for url in listed:
            site_document_add(url=url, parent=document, crawl=False)
        gone = document.pages.exclude(url__in=listed).exclude(status=SiteDocument.Status.REMOVED)
        for page_id in gone.values_list("pk", flat=True):
            site_document_remove(document_id=page_id)
        _save(
            document,
            audit="indexed",
            status=SiteDocument.Status.OK,
            last_error="",
            content_sha256=digest,
            chunk_count=0,
            **validators,
        )


def site_documents_crawl_all(*, timeout: float = 10.0) -> dict[str, int]:
    """The scheduled re-crawl: every document not removed (a sitemap's pages through their sitemap)."""
    counts: dict[str, int] = {}
    session = _session()
    top = SiteDocument.objects.filter(parent__isnull=True).exclude(status=SiteDocument.Status.REMOVED)
    for document_id in top.order_by("pk").values_list("pk", flat=True):
        site_document_crawl(document_id=document_id, timeout=timeout, session=session)
    for status in SiteDocument.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts
