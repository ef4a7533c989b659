"""An erasure sticks: what Shopify and Zoho send about her afterwards never brings her back.

Bob Norman is Shopify's own sample customer (207119551, bob.norman@mail.example.com): every body
here is one of Shopify's published payloads as it is (tests/integrations/shopify/fixtures/shared,
see its SOURCES.md), delivered over the signed webhook, or served by the fake shop to the backfill.
He is known (an older version of his record, and an email he sent), then erased; then each path
replays a newer genuine version of him. After it, his address, name and phone are nowhere: not in
any row of any table (read whole, as JSON), the blob store or the Chroma directory.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from conversations.models import Conversation, Message
from customers.models import Customer, ErasureTombstone, Order
from customers.services_erasure import customer_erase
from integrations.shopify.backfill import backfill_run
from integrations.shopify.fake import FakeShop
from omnichannel.models import WebhookDelivery
from tests.builders import shopify_deliver, webhook_signature
from tests.integrations.shopify.conftest import FIXTURES
from tests.pii_scan import anywhere_holding

pytestmark = pytest.mark.django_db

SHOPIFY_SECRET, ZOHO_SECRET = "shpss_erasure_secret", "zoho-erasure-secret"
BOB = ("bob.norman@mail.example.com", "Norman", "+16136120707", "Chestnut Street")
BEFORE_ERASURE_MS = 1764100000000  # 2025-11-25: an email he sent long before he asked to be erased


def shared(name: str) -> dict:
    return json.loads((FIXTURES / "shared" / name).read_text())


def bob(version: str) -> dict:
    """A customers/update body is the customer resource: the `customer` of a genuine REST answer."""
    payload = shared(version)
    return payload["customer"] if "customer" in payload else next(
        c for c in payload["customers"] if c["id"] == 207119551)


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.SHOPIFY_WEBHOOK_SECRET = SHOPIFY_SECRET
    settings.ZOHO_WEBHOOK_SECRET = ZOHO_SECRET


def deliver(client, topic: str, payload: dict):
    response = shopify_deliver(client, topic, payload, secret=SHOPIFY_SECRET)
    assert response.status_code == 200, response.content
    return WebhookDelivery.objects.get(pk=response.json()["delivery_id"])


def email_from_bob(client, *, message_id: int, received_ms: int, text: str = "Where is my order #1001?"):
    body = json.dumps({
        "messageId": message_id, "folderId": "inbox", "threadId": message_id, "subject": "My order",
        "fromAddress": "Bob Norman <bob.norman@mail.example.com>", "sender": "Bob Norman",
        "toAddress": "&lt;support@demo-shop.example&gt;", "receivedTime": str(received_ms), "hasAttachment": "0",
        "html": f"<div>Hello,<br>{text}<br>Bob Norman, +16136120707</div>"}).encode()
    response = client.post("/webhooks/zoho/", data=body, content_type="application/json",
                           HTTP_X_HOOK_SIGNATURE=webhook_signature(ZOHO_SECRET, body))
    assert response.status_code == 200, response.content
    return WebhookDelivery.objects.get(pk=response.json()["delivery_id"])


@pytest.fixture
def bob_erased(client, django_capture_on_commit_callbacks):
    """Bob as we knew him (his record as Shopify's customer search answered, and an email of his, drafted),
    then his erasure request."""
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "customers/update", bob("app-js__customer__test_6__GET_customers_search__response.json"))
        email_from_bob(client, message_id=1764100000000200077, received_ms=BEFORE_ERASURE_MS - 3_600_000)
    assert {"customers: bob.norman@mail.example.com", "messages: Norman"} <= set(anywhere_holding(*BOB))
    with django_capture_on_commit_callbacks(execute=True):
        customer_erase(email="bob.norman@mail.example.com")
    assert anywhere_holding(*BOB) == []
    return Customer.objects.get(shopify_id="207119551")


def test_a_newer_customers_update_after_the_erasure_writes_none_of_his_data_back(
        client, bob_erased, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        delivery = deliver(client, "customers/update",
                           bob("app-js__customer__test_12__GET_customers_207119551__response.json"))
    assert anywhere_holding(*BOB) == []
    customer = Customer.objects.get(shopify_id="207119551")
    assert customer.pk == bob_erased.pk and customer.is_erased and (customer.name, customer.phone) == ("", "")
    # The facts that are not him still follow the shop (the newer version was applied, without him).
    assert customer.source_updated_at == datetime.fromisoformat("2025-01-02T11:25:58-05:00")
    delivery.refresh_from_db()
    assert delivery.status == "processed" and delivery.is_erased and bytes(delivery.body) == b""


def test_an_older_customer_record_under_another_address_is_recognised_by_his_shopify_id(
        client, bob_erased, django_capture_on_commit_callbacks):
    """Shopify's 2016 record of the same customer (id 207119551) names bob.norman@hostmail.com: an address
    the erasure never saw, which only the Shopify id ties to him."""
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "customers/update", bob("ruby_legacy__customers.json"))
    assert anywhere_holding(*BOB, "bob.norman@hostmail.com") == []
    assert not Customer.objects.filter(email__iexact="bob.norman@hostmail.com").exists()


def test_an_orders_update_about_him_keeps_the_order_without_him(client, bob_erased, django_capture_on_commit_callbacks):
    order = shared("app-js__order__test_8__GET_orders_450789469__response.json")["order"]
    with django_capture_on_commit_callbacks(execute=True):
        delivery = deliver(client, "orders/updated", order)
    assert anywhere_holding(*BOB, "+557734881234") == []
    stored = Order.objects.get(shopify_id="450789469")
    # The order's own facts stay (support still sees an order and its amounts), linked to the erased row.
    assert (stored.name, stored.total_price_cents, stored.customer_id) == ("#1001", 59894, bob_erased.pk)
    assert stored.is_erased and stored.shipping_address == {} and stored.email.endswith("@erased.invalid")
    delivery.refresh_from_db()
    assert delivery.is_erased


def test_a_backfill_page_after_the_erasure_brings_nothing_of_him_back(bob_erased, settings):
    shop = FakeShop(resources={"customers": shared("app-js__customer__test_4__GET_customers__response.json")["customers"],
                               "orders": shared("app-js__order__test_1__GET_orders__response.json")["orders"],
                               "products": []})
    settings.SHOPIFY_MODE, settings.SHOPIFY_BASE_URL, settings.SHOPIFY_PACE_SECONDS = "live", shop.url, 0.0
    try:
        reports = backfill_run(resources=["customers", "orders"])
    finally:
        shop.close()
    assert reports["customers"]["upserted"] >= 1 and reports["orders"]["upserted"] >= 1
    assert anywhere_holding(*BOB) == []
    assert Order.objects.get(shopify_id="450789469").is_erased
    assert Customer.objects.get(shopify_id="207119551").name == ""


def test_an_email_he_sent_before_the_erasure_is_not_kept(client, bob_erased, django_capture_on_commit_callbacks):
    """A late poll or a replay of his mailbox: the erasure covered everything up to it."""
    messages = Message.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        delivery = email_from_bob(client, message_id=1764100000000200078, received_ms=BEFORE_ERASURE_MS)
    assert anywhere_holding(*BOB) == []
    assert Message.objects.count() == messages
    assert Customer.objects.filter(is_erased=False, email__iexact=BOB[0]).count() == 0
    delivery.refresh_from_db()
    assert delivery.status == "processed" and delivery.is_erased


def test_an_email_he_writes_after_the_erasure_is_a_new_contact_that_restores_nothing(
        client, bob_erased, django_capture_on_commit_callbacks):
    """Writing to us again is a new contact we must be able to answer: a fresh lead holds what he sent
    then. His erased record, his old conversation and his Shopify data stay erased and apart."""
    old_conversations = set(Conversation.objects.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        email_from_bob(client, message_id=1764100000000200079, received_ms=int(time.time() * 1000) + 60_000,
                       text="Please send me the catalogue.")
    lead = Customer.objects.get(email__iexact=BOB[0])
    assert lead.pk != bob_erased.pk and lead.shopify_id is None and lead.segment == "lead"
    message = Message.objects.get(external_msg_id="1764100000000200079")
    assert message.conversation_id not in old_conversations and message.conversation.customer_id == lead.pk
    bob_erased.refresh_from_db()
    assert bob_erased.is_erased and bob_erased.name == "" and bob_erased.email.endswith("@erased.invalid")
    assert not Message.objects.filter(conversation__in=old_conversations, is_erased=False).exists()
    # Shopify data about him still comes without him: the new contact is no consent to re-sync the shop's.
    with django_capture_on_commit_callbacks(execute=True):
        delivery = deliver(client, "customers/update",
                           bob("app-js__customer__test_12__GET_customers_207119551__response.json"))
    delivery.refresh_from_db()
    assert delivery.status == "processed" and delivery.is_erased
    assert Customer.objects.get(shopify_id="207119551").name == ""
    assert Customer.objects.get(pk=lead.pk).shopify_id is None


def test_the_tombstones_hold_keyed_hashes_not_his_address_or_ids(bob_erased):
    tombstones = list(ErasureTombstone.objects.values("kind", "key", "erased_at"))
    assert sorted(t["kind"] for t in tombstones) == ["email", "shopify_customer"]
    assert all(len(t["key"]) == 64 and t["erased_at"] <= datetime.now(UTC) for t in tombstones)
    assert not any(needle in json.dumps(tombstones, default=str) for needle in ("bob", "207119551"))
