"""After `erase_customer` she is nowhere (issue 16, "Done when"): not in a real `pg_dump` of the
database, the blob store's files, the encrypted archives and exports once decrypted, the vector index
(its files on disk, and what it answers when queried), nor the log records of the whole run; and
still nowhere after Shopify writes about her again.

Ada (demo customer 7001) as the shop ran for a while: an approved reply quoting her, which was
indexed before indexing scrubbed replies (so her words really are in Chroma, in its files and its
answers), an older conversation archived (encrypted), a data-request export, raw webhooks. Then the
erasure command, then Shopify's next `customers/update` and `orders/updated` about her, signed and
delivered over HTTP. Transactional: `pg_dump` reads only committed rows, as a backup would.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from assistants.services import draft_generate
from assistants.vectorstore import REPLIES, IndexItem, index_upsert
from conversations.models import Approval, Conversation, Draft, Message
from conversations.services.approvals import draft_edit_and_approve
from conversations.services.retention import conversation_archive
from customers.models import Customer
from customers.selectors import customer_summary_refresh
from customers.services_data_requests import data_request_create
from integrations.demo import seed_demo
from tests.builders import make_inbound_message, shopify_deliver
from tests.integrations.shopify.conftest import FIXTURES
from tests.pii_scan import (
    anywhere_holding,
    decrypted_blobs_holding,
    files_holding,
    index_holding,
    logs_holding,
    pg_dump_holding,
)

pytestmark = pytest.mark.django_db(transaction=True)

ADA = ("ada.lovelace@example.com", "Lovelace", "7946 0101", "St James")  # email, name, phone, street
SECRET = "shpss_erased_everywhere"
REPLY = "Hi Ada Lovelace, your tent left with UPS 1Z999AA10123456784; we will ring +44 20 7946 0101 if needed."


def everywhere(records) -> list[str]:
    return (pg_dump_holding(*ADA) + anywhere_holding(*ADA) + decrypted_blobs_holding(*ADA) + index_holding(*ADA)
            + [f"chroma {hit}" for hit in files_holding(settings.CHROMA_PATH, *ADA)] + logs_holding(records, *ADA))


def deliver(client, topic: str, payload: dict) -> None:
    response = shopify_deliver(client, topic, payload, secret=SECRET)
    assert response.status_code == 200, response.content


def ada_from_shopify() -> dict:
    """Shopify's published customer resource, as Shopify would send Ada's record a month later."""
    customer = json.loads((FIXTURES / "shared" / "app-js__customer__test_12__GET_customers_207119551__response.json")
                          .read_text())["customer"]
    address = {"first_name": "Ada", "last_name": "Lovelace", "address1": "12 St James's Square", "city": "London",
               "zip": "SW1Y 4JH", "country": "United Kingdom", "phone": "+44 20 7946 0101", "name": "Ada Lovelace"}
    return {**customer, "id": 7001, "email": "ada.lovelace@example.com", "first_name": "Ada", "last_name": "Lovelace",
            "phone": "+442079460101", "updated_at": (timezone.now() + timedelta(days=30)).isoformat(),
            "addresses": [{**address, "id": 1, "customer_id": 7001, "default": True}],
            "default_address": {**address, "id": 1, "customer_id": 7001, "default": True}}


def ada_order_from_shopify() -> dict:
    order = json.loads((FIXTURES / "shared" / "app-js__order__test_8__GET_orders_450789469__response.json")
                       .read_text())["order"]
    shipping = {"first_name": "Ada", "last_name": "Lovelace", "name": "Ada Lovelace", "address1": "12 St James's Square",
                "city": "London", "zip": "SW1Y 4JH", "country": "United Kingdom", "phone": "+44 20 7946 0101"}
    return {**order, "id": 5001, "name": "#1001", "email": "ada.lovelace@example.com", "contact_email":
            "ada.lovelace@example.com", "phone": "+44 20 7946 0101", "updated_at": (timezone.now() + timedelta(days=30))
            .isoformat(), "customer": {**order.get("customer", {}), "id": 7001, "email": "ada.lovelace@example.com",
                                       "first_name": "Ada", "last_name": "Lovelace", "phone": "+44 20 7946 0101",
                                       "default_address": None},
            "billing_address": shipping, "shipping_address": shipping}


def test_after_erase_customer_she_is_in_no_dump_blob_archive_index_or_log_even_after_shopify_writes_again(
        client, caplog):
    caplog.set_level(logging.DEBUG)
    settings.SHOPIFY_WEBHOOK_SECRET = SECRET
    seed_demo()
    message = Message.objects.get(subject="Where is my tent?")
    # (Committed as it goes: the ingest's own draft was made on commit, as in production.)
    draft = Draft.objects.filter(reply_to=message, status="pending").first() or draft_generate(
        message_id=message.pk).draft
    agent = get_user_model().objects.get(username="agent")
    draft_edit_and_approve(draft_id=draft.pk, acting_user=agent, final_text=REPLY)
    approval = Approval.objects.get(draft=draft)
    # Indexed before replies were indexed scrubbed: a legacy item holding her words, under its approval's id.
    index_upsert(REPLIES, [IndexItem(id=f"approval-{approval.pk}", text=f"Where is my tent? Ada Lovelace {ADA[0]}",
                                     metadata={"approval_id": approval.pk, "edited": True, "reply": REPLY})])
    older = make_inbound_message(email=ADA[0], subject="Returning a stove",
                                 body="Please pick it up at 12 St James's Square. Ada Lovelace, +44 20 7946 0101")
    Conversation.objects.filter(pk=older.conversation_id).update(status="closed",
                                                                 closed_at=timezone.now() - timedelta(days=600))
    conversation_archive(conversation_id=older.conversation_id)
    data_request_create(external_id="778", shopify_customer_id="7001", email=ADA[0])
    customer_summary_refresh()

    before = everywhere(caplog.records)
    # Every place is really searched: she is in each before the erasure.
    for place in ("pg_dump: ", "customers: ", "approved_replies approval-", "chroma ", "(decrypted): "):
        assert any(hit.startswith(place) or place in hit for hit in before), (place, before)

    # (The run logged nothing of her: the log scan sees a record that would.)
    probe = logging.makeLogRecord({"name": "probe", "msg": "lead %s", "args": (ADA[0],)})
    assert f"log probe: {ADA[0]}" in logs_holding([probe], *ADA)

    call_command("erase_customer", ADA[0], "--yes")
    assert everywhere(caplog.records) == []

    # A month later Shopify sends her record and her order again, in full.
    deliver(client, "customers/update", ada_from_shopify())
    deliver(client, "orders/updated", ada_order_from_shopify())
    assert everywhere(caplog.records) == []
    erased = Customer.objects.get(shopify_id="7001")
    assert erased.is_erased and erased.name == "" and erased.phone == ""
