"""Celery tasks of the site documents (names are contracts: see ARCHITECTURE.md)."""

from __future__ import annotations

from celery import shared_task

from integrations.site.documents import site_document_crawl, site_documents_crawl_all
from omnichannel.single_flight import single_flight
from omnichannel.task_names import TaskName


@shared_task(name=TaskName.CRAWL_SITE_DOCUMENTS, acks_late=True)
def crawl_site_documents(document_id: int | None = None) -> dict:
    """One document ("re-crawl now", a new one), or all of them (the schedule); one crawl at a time, so
    a scheduled run and a click never fetch and re-index the same page at once."""
    with single_flight(TaskName.CRAWL_SITE_DOCUMENTS, wait=True):
        if document_id is not None:
            document = site_document_crawl(document_id=document_id)
            return {"status": document.status, "chunks": document.chunk_count}
        return site_documents_crawl_all()
