"""An erasure reaches what names the customer without her address: raw Shopify deliveries that
carry only her ids, the retrieval index's files on disk, curated knowledge (FAQ entries and draft
proposals, corrections, the published FAQ pages), archives and data-request exports."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from assistants import vectorstore
from assistants.services import draft_generate
from conversations.models import Conversation, Message
from conversations.services.approvals import draft_edit_and_approve
from conversations.services.retention import conversation_archive
from customers.models import DataRequest
from customers.selectors import customer_summary_refresh
from customers.services_data_requests import data_request_create
from customers.services_erasure import customer_erase
from faq.models import Correction, FaqEntry, FaqPublication
from faq.services import faq_entry_create
from integrations.demo import seed_demo
from omnichannel.blobstore import blob_exists
from omnichannel.models import WebhookDelivery
from omnichannel.webhook_deliveries import webhook_delivery_store
from tests.builders import make_inbound_message
from tests.pii_scan import anywhere_holding, files_holding

pytestmark = pytest.mark.django_db

ADA = ("ada.lovelace@example.com", "Lovelace", "7946 0101", "12 St James")  # email, name, phone, address


def _shopify_delivery(topic: str, body: dict):
    delivery, _ = webhook_delivery_store(source="shopify", topic=topic, external_id=f"{topic}-{body.get('id')}",
                                         headers={"x-shopify-topic": topic}, body=json.dumps(body).encode())
    return delivery


@pytest.fixture
def ada_everywhere(django_capture_on_commit_callbacks):
    """Ada (demo customer 7001) as the shop ran for a while: a decided reply in the index, an archived
    conversation, webhooks naming her by id only, knowledge quoting her, a data-request export."""
    with django_capture_on_commit_callbacks(execute=True):
        seed_demo()
        message = Message.objects.get(subject="Where is my tent?")
        draft = draft_generate(message_id=message.pk).draft
        agent = get_user_model().objects.get(username="agent")
        draft_edit_and_approve(draft_id=draft.pk, acting_user=agent,
                               final_text="Hi Ada Lovelace, UPS 1Z999AA10123456784 leaves today.")
        # An order webhook that names her by her Shopify id only (the address is in the shipping block).
        by_id = _shopify_delivery("orders/updated", {"id": 5002, "customer": {"id": 7001}, "shipping_address": {
            "name": "A. Lovelace", "address1": "12 St James's Square"}})
        # A fulfillment, which names only her order.
        by_order = _shopify_delivery("fulfillments/create", {"id": 88001, "order_id": 5001, "destination": {
            "first_name": "Ada", "last_name": "Lovelace", "phone": "+44 20 7946 0101"}})
        # Someone else's order webhook, whose numbers include hers: stays.
        other = _shopify_delivery("orders/updated", {"id": 5003, "customer": {"id": 7002}, "total_price": "7001.00",
                                                     "note": "gift wrap, order 5001 was hers"})
        proposal = faq_entry_create(question="Where is Ada Lovelace's tent?",
                                    answer="Ada (ada.lovelace@example.com) gets UPS tracking today.")
        # Published before publishing refused customer data (legacy rows an erasure must still reach).
        published = faq_entry_create(question="Can I call you?",
                                     answer="Yes: our customer Ada Lovelace called us on +44 20 7946 0101 last week.")
        FaqEntry.objects.filter(pk=published.pk).update(status="published", published_at=timezone.now())
        # Saved before corrections refused customer data (correction_upsert now does): a legacy row.
        Correction.objects.create(key="tent-ada", pattern="ridgeline",
                                  answer="Ask Mrs Ada Lovelace before promising a date.")
        data_request_create(external_id="777", shopify_customer_id="7001", email="ada.lovelace@example.com")
    older = make_inbound_message(email="ada.lovelace@example.com", subject="Returning a stove",
                                 body="Please pick it up at 12 St James's Square. Ada Lovelace")
    archived = older.conversation
    with django_capture_on_commit_callbacks(execute=True):
        Conversation.objects.filter(pk=archived.pk).update(status="closed",
                                                           closed_at=timezone.now() - timedelta(days=600))
        conversation_archive(conversation_id=archived.pk)
    customer_summary_refresh()
    return {"by_id": by_id, "by_order": by_order, "other": other, "proposal": proposal, "published": published,
            "archive_key": Conversation.objects.get(pk=archived.pk).archive_blob_key,
            "export": DataRequest.objects.get(external_id="777")}


def test_an_erasure_leaves_her_nowhere_in_the_database_the_blobs_or_the_index_files(
        ada_everywhere, django_capture_on_commit_callbacks):
    before = anywhere_holding(*ADA)
    # (The index no longer holds her before the erasure either: approved replies are indexed scrubbed.)
    assert {"faq_entries: Lovelace", "corrections: Lovelace", "webhook_deliveries: 12 St James"} <= set(before)
    assert ada_everywhere["export"].status == "ready" and blob_exists(ada_everywhere["export"].blob_key)
    page_keys = list(FaqPublication.objects.exclude(blob_key="").values_list("blob_key", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        report = customer_erase(email="ada.lovelace@example.com")

    assert anywhere_holding(*ADA) == []
    assert files_holding(settings.CHROMA_PATH, *ADA) == []  # the deleted reply is not left in Chroma's log
    assert vectorstore.index_count(vectorstore.REPLIES) == 0
    assert report.counts["faq_entries"] == 2 and report.counts["corrections"] == 1
    for key in ("by_id", "by_order"):
        assert WebhookDelivery.objects.get(pk=ada_everywhere[key].pk).is_erased
    assert not WebhookDelivery.objects.get(pk=ada_everywhere["other"].pk).is_erased  # "7001.00" is a price
    proposal = FaqEntry.objects.get(pk=ada_everywhere["proposal"].pk)
    assert proposal.status == "draft" and "[erased]" in proposal.question and "[erased]" in proposal.answer
    assert FaqEntry.objects.get(pk=ada_everywhere["published"].pk).status == "published"  # still answers "call us?"
    assert "ridgeline" == Correction.objects.get(key="tent-ada").pattern
    assert not any(blob_exists(key) for key in page_keys)
    assert not blob_exists(ada_everywhere["archive_key"])
    export = DataRequest.objects.get(pk=ada_everywhere["export"].pk)
    assert export.status == "erased" and export.blob_key == "" and not blob_exists(ada_everywhere["export"].blob_key)
