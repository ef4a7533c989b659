"""The backfill's bulk upserts never overwrite newer data, and orders find their customer late.

On Postgres: the staleness comparison is part of the INSERT … ON CONFLICT statement, so it also
holds when a webhook commits a newer row while the backfill's statement is already running.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction

from catalog.models import InventoryItem
from catalog.services import InventoryFacts, inventory_item_upsert, inventory_items_bulk_upsert
from customers.models import Customer, Order
from customers.services import (
    CustomerFacts,
    OrderFacts,
    customer_upsert,
    customers_bulk_upsert,
    order_upsert,
    orders_bulk_upsert,
)

T1 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
T2 = T1 + timedelta(hours=1)
T3 = T1 + timedelta(hours=2)


def _customer(name: str, at: datetime, **extra) -> CustomerFacts:
    return CustomerFacts(shopify_id="9001", email="grace@example.com", name=name, source_updated_at=at, **extra)


@pytest.mark.django_db
def test_an_older_bulk_row_leaves_the_newer_customer_order_and_item():
    customers_bulk_upsert(facts_list=[_customer("Grace v1", T1)])
    customer_upsert(facts=_customer("Grace v3", T3))  # a webhook
    assert customers_bulk_upsert(facts_list=[_customer("Grace v2", T2)]) == {"upserted": 0, "stale": 1}
    assert Customer.objects.get(shopify_id="9001").name == "Grace v3"

    orders_bulk_upsert(facts_list=[OrderFacts(shopify_id="5100", name="#1", status="paid", source_updated_at=T1)])
    order_upsert(facts=OrderFacts(shopify_id="5100", name="#1", status="fulfilled", source_updated_at=T3))
    orders_bulk_upsert(facts_list=[OrderFacts(shopify_id="5100", name="#1", status="paid", source_updated_at=T2)])
    assert Order.objects.get(shopify_id="5100").status == "fulfilled"

    inventory_items_bulk_upsert(facts_list=[InventoryFacts(sku="TENT", quantity_available=5, source_updated_at=T1)])
    inventory_item_upsert(facts=InventoryFacts(sku="TENT", quantity_available=0, source_updated_at=T3))
    inventory_items_bulk_upsert(facts_list=[InventoryFacts(sku="TENT", quantity_available=7, source_updated_at=T2)])
    assert InventoryItem.objects.get(sku="TENT").quantity_available == 0


@pytest.mark.django_db
def test_an_unchanged_row_is_not_rewritten_and_a_newer_one_is():
    customers_bulk_upsert(facts_list=[_customer("Grace", T1)])
    written_at = Customer.objects.get(shopify_id="9001").updated_at
    assert customers_bulk_upsert(facts_list=[_customer("Grace", T1)]) == {"upserted": 0, "stale": 1}
    assert Customer.objects.get(shopify_id="9001").updated_at == written_at
    assert customers_bulk_upsert(facts_list=[_customer("Grace Hopper", T2), _customer("Grace H.", T1)]) == {
        "upserted": 1, "stale": 1}  # the batch's duplicate: the newest wins
    assert Customer.objects.get(shopify_id="9001").name == "Grace Hopper"


@pytest.mark.django_db
def test_a_bulk_row_without_quantity_or_price_keeps_ours_and_lead_times_are_never_overwritten():
    inventory_items_bulk_upsert(facts_list=[InventoryFacts(sku="BOOT", quantity_available=4, price_cents=9900,
                                                           lead_time_days=10, source_updated_at=T1)])
    inventory_items_bulk_upsert(facts_list=[
        InventoryFacts(sku="BOOT", title="Boot", quantity_available=None, price_cents=None, lead_time_days=3,
                       source_updated_at=T2),
        InventoryFacts(sku="SOCK", quantity_available=None, price_cents=500, source_updated_at=T2)])
    boot, sock = InventoryItem.objects.get(sku="BOOT"), InventoryItem.objects.get(sku="SOCK")
    assert (boot.title, boot.quantity_available, boot.price_cents, boot.lead_time_days) == ("Boot", 4, 9900, 10)
    assert (sock.quantity_available, sock.price_cents) == (None, 500)  # a new item's unstated stock is unknown, not 0


def _lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_webhook_committing_a_newer_customer_during_the_bulk_statement_wins():
    # The race the database must decide: the bulk statement has started (and read the old row)
    # when a webhook's transaction, holding the row, commits a newer version.
    if connection.vendor != "postgresql":
        pytest.skip("row locks and pg_stat_activity are Postgres")
    customers_bulk_upsert(facts_list=[_customer("Grace v1", T1)])
    webhook_holds_row, failures = threading.Event(), []

    def webhook() -> None:
        try:
            with transaction.atomic():
                customer_upsert(facts=_customer("Grace v3", T3))
                webhook_holds_row.set()
                deadline = time.monotonic() + 10
                while _lock_waiters() == 0:  # commit only once the bulk statement waits for our row
                    if time.monotonic() > deadline:
                        raise AssertionError("the bulk upsert never waited for the webhook's row lock")
                    time.sleep(0.02)
        except Exception as exc:  # reported by the main thread
            failures.append(exc)
            webhook_holds_row.set()
        finally:
            connection.close()

    thread = threading.Thread(target=webhook)
    thread.start()
    assert webhook_holds_row.wait(10)
    counts = customers_bulk_upsert(facts_list=[_customer("Grace v2", T2)])
    thread.join(15)
    assert not failures, failures
    assert counts == {"upserted": 0, "stale": 1}
    assert Customer.objects.get(shopify_id="9001").name == "Grace v3"


@pytest.mark.django_db
def test_orders_that_arrive_before_their_customer_are_linked_when_it_arrives():
    orders_bulk_upsert(facts_list=[
        OrderFacts(shopify_id="5200", customer_shopify_id="9002", email="ada@example.com", source_updated_at=T1),
        OrderFacts(shopify_id="5201", customer_shopify_id="9002", source_updated_at=T1),
        OrderFacts(shopify_id="5202", email="guest@example.com", source_updated_at=T1)])
    assert Order.objects.filter(customer__isnull=True).count() == 3
    assert Order.objects.get(shopify_id="5200").customer_shopify_id == "9002"
    customers_bulk_upsert(facts_list=[CustomerFacts(shopify_id="9002", email="ada@example.com", source_updated_at=T1)])
    ada = Customer.objects.get(shopify_id="9002")
    assert set(ada.orders.values_list("shopify_id", flat=True)) == {"5200", "5201"}
    assert Order.objects.get(shopify_id="5202").customer is None  # a guest stays a guest


@pytest.mark.django_db
def test_a_webhook_order_before_its_customer_is_linked_by_the_customer_webhook():
    order, _ = order_upsert(facts=OrderFacts(shopify_id="5300", customer_shopify_id="9003", source_updated_at=T1))
    assert order.customer is None
    customer, _ = customer_upsert(facts=CustomerFacts(shopify_id="9003", email="lin@example.com", source_updated_at=T1))
    order.refresh_from_db()
    assert order.customer_id == customer.pk
