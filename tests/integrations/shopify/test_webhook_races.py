"""Deliveries about the same new record, processed at the same moment on separate connections.

Shopify sends `orders/create` and `orders/updated` (or `customers/create` and `customers/update`,
`products/create` and `products/update`) for a record seconds apart, and two workers may process
them together. Nothing is held yet, so there is no row to lock: whichever way the inserts
interleave, no delivery may fail and the newest version must be the one kept.

Each round stores the deliveries as the intake does (`webhook_delivery_store`), then processes
them from threads that start together, each on its own database connection, through
`process_shopify_event` (what `process_shopify_event_task` runs). Payloads are the shared real
Shopify payloads, with their ids, times and one visible value changed per round and version.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction

from catalog.models import InventoryItem
from customers.models import Customer, Order
from customers.services import customer_get_or_create_lead
from integrations.shopify.events import process_shopify_event
from omnichannel.models import WebhookDelivery
from omnichannel.webhook_deliveries import webhook_delivery_store
from tests.integrations.shopify.conftest import fixture

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 20
VERSIONS = 3  # one create and two updates, one thread each
T0 = datetime.fromisoformat("2026-11-20T10:00:00-05:00")


def _stamp(version: int) -> str:
    return (T0 + timedelta(minutes=version)).isoformat()


def _order(n: int, version: int) -> dict:
    order = fixture("shared/app-js__order__test_8__GET_orders_450789469__response.json")["order"]
    return {**order, "id": 450789469 + n, "name": f"#R{n}", "updated_at": _stamp(version),
            "total_price": f"{598 + version}.94"}


def _customer(n: int, version: int) -> dict:
    customer = fixture("shared/python_api__customer.json")["customer"]
    return {**customer, "id": 207119551 + n, "email": f"bob.norman+{n}@hostmail.com", "updated_at": _stamp(version),
            "total_spent": f"{41 + version}.94"}


def _product(n: int, version: int) -> dict:
    # Its variants name their inventory items: a second unique column (besides the sku) to race on.
    product = fixture("shared/app-js__product__test_9__GET_products_632910392__response.json")["product"]
    return {**product, "id": 632910392 + n, "updated_at": _stamp(version), "variants": [
        {**v, "sku": f"{v['sku']}-R{n}", "inventory_item_id": v["inventory_item_id"] * 100 + n,
         "updated_at": _stamp(version), "price": f"{199 + version}.00"} for v in product["variants"]]}


def _store(topic: str, payload: dict) -> int:
    delivery, created = webhook_delivery_store(
        source="shopify", topic=topic, external_id=str(uuid.uuid4()), body=json.dumps(payload).encode(),
        headers={"x-shopify-topic": topic, "x-shopify-shop-domain": "demo-shop.myshopify.com"})
    assert created
    return delivery.pk


def _process_together(delivery_ids: list[int]) -> dict[int, object]:
    """Process every delivery in its own thread (its own connection), all released at once."""
    start, outcomes = threading.Barrier(len(delivery_ids)), {}

    def work(delivery_id: int) -> None:
        try:
            start.wait(10)
            outcomes[delivery_id] = process_shopify_event(delivery_id)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            outcomes[delivery_id] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(pk,)) for pk in delivery_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def _race(topics: list[str], payload, newest_kept) -> None:
    """ROUNDS rounds, each about a new record: every delivery processed, and `newest_kept(n)` holds."""
    failed, stale = [], []
    for n in range(1, ROUNDS + 1):
        ids = [_store(topic, payload(n, version)) for version, topic in enumerate(topics, start=1)]
        # Threads start in a different order each round: the newest version is not always first or last.
        outcomes = _process_together(ids[n % len(ids):] + ids[:n % len(ids)])
        for pk, status, error in WebhookDelivery.objects.filter(pk__in=ids).values_list("pk", "status", "last_error"):
            if status != "processed" or isinstance(outcomes.get(pk), Exception):
                failed.append((n, status, outcomes.get(pk), error))
        if not newest_kept(n):
            stale.append(n)
    assert not failed, f"{len(failed)} deliveries failed, e.g. {failed[0]}"
    assert not stale, f"an older version was kept in rounds {stale}"


def test_a_new_order_created_and_updated_at_once_keeps_the_newest_version_and_fails_no_delivery():
    def newest_kept(n: int) -> bool:
        order = Order.objects.get(shopify_id=str(450789469 + n))
        return (order.source_updated_at, order.total_price_cents) == (datetime.fromisoformat(_stamp(VERSIONS)), 60194)

    _race(["orders/create", "orders/updated", "orders/updated"], _order, newest_kept)


@pytest.mark.parametrize("lead", [False, True], ids=["new customer", "customer who wrote to us first"])
def test_a_new_customer_created_and_updated_at_once_keeps_the_newest_version_and_fails_no_delivery(lead):
    if lead:
        for n in range(1, ROUNDS + 1):  # a lead from an email, which the Shopify customer must become
            customer_get_or_create_lead(email=f"bob.norman+{n}@hostmail.com", name="Bob")
    leads = dict(Customer.objects.values_list("email", "pk"))

    def newest_kept(n: int) -> bool:
        email = f"bob.norman+{n}@hostmail.com"
        rows = list(Customer.objects.filter(email=email))
        return len(rows) == 1 and (rows[0].shopify_id, rows[0].lifetime_value_cents) == (str(207119551 + n), 4494) \
            and (not lead or rows[0].pk == leads[email])

    _race(["customers/create", "customers/update", "customers/update"], _customer, newest_kept)


def test_a_new_product_created_and_updated_at_once_keeps_the_newest_version_and_fails_no_delivery():
    def newest_kept(n: int) -> bool:
        prices = InventoryItem.objects.filter(product_id=str(632910392 + n)).values_list("price_cents", flat=True)
        return list(prices) == [20200] * 4

    _race(["products/create", "products/update", "products/update"], _product, newest_kept)


# --- What is retried: a collision that another delivery resolves, a database that made us wait too long ---


def test_a_customer_whose_email_another_still_holds_is_raised_for_retry_and_processed_once_it_moves():
    # Shopify's emails are unique per shop: a new customer with a held address means the other
    # customer's change of address has not reached us yet. Parked as permanent, it would wait for
    # an operator; raised, the task retries it, and a later attempt goes through.
    first = _store("customers/create", _customer(1, 1))
    assert process_shopify_event(first) == "created"
    taken = _store("customers/create", {**_customer(2, 1), "email": "bob.norman+1@hostmail.com"})
    with pytest.raises(IntegrityError):
        process_shopify_event(taken)
    delivery = WebhookDelivery.objects.get(pk=taken)
    assert delivery.status == "failed" and "customer_email_unique_ci" in delivery.last_error
    assert process_shopify_event(_store("customers/update", {**_customer(1, 2), "email": "bob@example.com"})) == "updated"
    assert process_shopify_event(taken, replay=True) == "created"  # what the task's retry does
    assert Customer.objects.get(email="bob.norman+1@hostmail.com").shopify_id == str(207119551 + 2)


def test_an_order_waiting_too_long_on_a_locked_row_is_raised_for_retry_not_parked():
    assert process_shopify_event(_store("orders/create", _order(1, 1))) == "created"
    holding, release = threading.Event(), threading.Event()

    def hold_the_row() -> None:  # another transaction (a backfill, an erasure) holds the order's row
        try:
            with transaction.atomic():
                list(Order.objects.select_for_update().filter(shopify_id=str(450789469 + 1)))
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    assert holding.wait(10)
    update = _store("orders/updated", _order(1, 2))
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        with pytest.raises(OperationalError):  # lock_not_available, from the upsert's own statement
            process_shopify_event(update)
    finally:
        release.set()
        holder.join(10)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert WebhookDelivery.objects.get(pk=update).status == "failed"
    assert process_shopify_event(update, replay=True) == "updated"
    assert Order.objects.get(shopify_id=str(450789469 + 1)).total_price_cents == 60094
