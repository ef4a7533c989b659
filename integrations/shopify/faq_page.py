"""Publishing the FAQ page to the shop (Page API), once per change.

Render the published entries, and if the HTML differs from the last publication: create the
page the first time, update it afterwards (the page id is remembered), keep the rendered HTML
as a blob, record the publication, and re-index the FAQ collection. Publishing twice without a
change makes no Shopify call. The Shopify call happens outside any transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistants.vectorstore import FAQ, IndexItem, index_reset, index_upsert
from faq.selectors import faq_page_render, faq_publication_latest, faq_published
from faq.services import faq_publication_record
from integrations.shopify.client import ShopifyClient
from omnichannel.blobstore import blob_put

PAGE_TITLE = "Frequently asked questions"


@dataclass(frozen=True)
class PublishOutcome:
    status: str  # "created" | "updated" | "unchanged"
    page_id: str
    entries: int


def faq_reindex() -> int:
    index_reset(FAQ)
    return index_upsert(FAQ, [IndexItem(f"faq-{e.pk}", f"{e.question}\n{e.answer}",
                                        {"faq_id": e.pk, "intent": e.source_intent, "question": e.question})
                              for e in faq_published()])


def faq_page_publish(*, client: ShopifyClient | None = None, force: bool = False) -> PublishOutcome:
    html, digest, count = faq_page_render()
    last = faq_publication_latest()
    if last is not None and last.content_sha256 == digest and last.shopify_page_id and not force:
        return PublishOutcome("unchanged", last.shopify_page_id, count)
    client = client or ShopifyClient.from_settings()
    if last is not None and last.shopify_page_id:
        page = client.page_update(last.shopify_page_id, body_html=html, title=PAGE_TITLE)
        status = "updated"
    else:
        page = client.page_create(title=PAGE_TITLE, body_html=html, handle="faq")
        status = "created"
    blob = blob_put(html.encode(), prefix="faq-pages")
    faq_publication_record(status=status, shopify_page_id=str(page["id"]), content_sha256=digest, blob_key=blob.key,
                           entries_count=count)
    faq_reindex()
    return PublishOutcome(status, str(page["id"]), count)
