"""The GraphQL bulk-operation backfill against the fake shop over real HTTP, on Postgres: it
writes the same rows as the REST backfill, resumes inside the export after a broken download,
and a FAILED export is a clear error."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict

from catalog.models import InventoryItem
from customers.models import Customer, Order
from integrations.models import ShopifyCursor
from integrations.shopify import graphql_ingest
from integrations.shopify.backfill import backfill_run
from integrations.shopify.bulk import BulkOperationError, bulk_objects, bulk_operation_start
from integrations.shopify.client import ShopifyClient, ShopifyError

pytestmark = pytest.mark.django_db


def _many_orders(shop, n: int) -> None:
    for i in range(n):
        shop.resources["orders"].append({
            "id": 600000 + i, "name": f"#{5000 + i}", "email": f"buyer{i}@example.com",
            "customer": {"id": 7001} if i % 2 else None, "financial_status": "paid", "fulfillment_status": None,
            "total_price": "10.05", "currency": "USD", "created_at": "2026-11-10T10:00:00+00:00",
            "updated_at": f"2026-11-{10 + i % 10:02d}T10:00:{i % 60:02d}+00:00",
            "line_items": [{"sku": "TENT-2P-GRN", "name": "Tent", "quantity": 1 + i % 3, "price": "3.35"}]})


def _snapshot() -> dict:
    skip = ("id", "created_at", "updated_at", "customer")
    return {
        "customers": sorted((model_to_dict(c, exclude=skip) for c in Customer.objects.all()), key=lambda r: r["shopify_id"]),
        "orders": sorted(({**model_to_dict(o, exclude=skip), "customer": o.customer.shopify_id if o.customer else None}
                          for o in Order.objects.select_related("customer")), key=lambda r: r["shopify_id"]),
        "inventory": sorted((model_to_dict(i, exclude=skip) for i in InventoryItem.objects.all()), key=lambda r: r["sku"]),
    }


def _forget_everything() -> None:
    Order.objects.all().delete()
    Customer.objects.all().delete()
    InventoryItem.objects.all().delete()
    ShopifyCursor.objects.all().delete()


def test_the_bulk_backfill_writes_the_same_rows_as_the_rest_backfill(fake_shop):
    _many_orders(fake_shop, 300)  # two batches of orders, each with a line-item child line
    backfill_run(via="rest")
    by_rest = _snapshot()
    rest_cursors = dict(ShopifyCursor.objects.values_list("resource", "last_updated_at"))
    assert (len(by_rest["customers"]), len(by_rest["orders"]), len(by_rest["inventory"])) == (6, 310, 9)
    _forget_everything()

    reports = backfill_run(via="bulk")
    assert {name: r["upserted"] for name, r in reports.items()} == {"customers": 6, "inventory": 9, "orders": 310}
    assert _snapshot() == by_rest
    order = Order.objects.get(name="#1001")
    assert order.tracking_numbers == ["1Z999AA10123456784"] and order.line_items[0]["sku"] == "TENT-2P-GRN"
    assert Order.objects.get(shopify_id="600001").total_price_cents == 1005  # "10.05" through Decimal
    # Polled until COMPLETED, and the signed download URL never saw the shop's access token.
    assert fake_shop.graphql_operations.count("bulkOperationRunQuery") == 3
    assert fake_shop.graphql_operations.count("currentBulkOperation") >= 6
    assert fake_shop.bulk_downloads and all("X-Shopify-Access-Token" not in h for h in fake_shop.bulk_downloads)
    cursor = ShopifyCursor.objects.get(resource="orders")
    assert cursor.page_info == "" and cursor.last_run_status == "ok"
    assert dict(ShopifyCursor.objects.values_list("resource", "last_updated_at")) == rest_cursors

    again = backfill_run(via="bulk")  # exports only what changed since the cursor: nothing new
    assert {name: r["upserted"] for name, r in again.items()} == {"customers": 0, "inventory": 0, "orders": 0}


def test_a_broken_download_resumes_inside_the_same_export(fake_shop, settings):
    settings.SHOPIFY_MAX_ATTEMPTS = 1
    _many_orders(fake_shop, 600)  # 610 orders, two lines each (order + line item) for the 600
    backfill_run(resources=["customers", "inventory"], via="bulk")
    fake_shop.bulk_drop_after_lines = 1100  # about 550 orders arrive, then the connection drops
    with pytest.raises(ShopifyError, match="broke off"):
        backfill_run(resources=["orders"], via="bulk")
    cursor = ShopifyCursor.objects.get(resource="orders")
    # Whole batches of 250 were committed with the checkpoint; the partial one was not.
    assert Order.objects.count() in (250, 500) and cursor.page_info.endswith(f":{Order.objects.count()}")
    assert cursor.last_updated_at is None  # an export promises no order: not advanced mid-file
    exports = fake_shop.graphql_operations.count("bulkOperationRunQuery")

    backfill_run(resources=["orders"], via="bulk")
    assert Order.objects.count() == 610
    assert fake_shop.graphql_operations.count("bulkOperationRunQuery") == exports  # same export, read by id
    assert ShopifyCursor.objects.get(resource="orders").page_info == ""


def test_a_failed_bulk_operation_is_a_clear_error_and_writes_nothing(fake_shop):
    fake_shop.bulk_fail = "INTERNAL_SERVER_ERROR"
    with pytest.raises(BulkOperationError, match=r"ended FAILED \(errorCode INTERNAL_SERVER_ERROR\)"):
        backfill_run(resources=["customers"], via="bulk")
    assert Customer.objects.count() == 0
    fake_shop.bulk_fail = "ACCESS_DENIED"
    with pytest.raises(CommandError, match="ACCESS_DENIED"):
        call_command("shopify_backfill", "--resource", "customers", "--via", "bulk")


def test_a_second_export_while_one_runs_is_refused_with_shopifys_message(fake_shop):
    fake_shop.bulk_polls_to_complete = 1000
    client = ShopifyClient.from_settings()
    bulk_operation_start(client, query=graphql_ingest.bulk_query("customers"))
    with pytest.raises(BulkOperationError, match="already in progress"):
        bulk_operation_start(client, query=graphql_ingest.bulk_query("orders"))


def test_children_are_put_back_under_their_parent_and_orphans_are_refused():
    lines = [{"id": "gid://shopify/Order/1"}, {"id": "gid://shopify/LineItem/11", "__parentId": "gid://shopify/Order/1"},
             {"id": "gid://shopify/Order/2"}, {"id": "gid://shopify/LineItem/21", "__parentId": "gid://shopify/Order/2"},
             {"id": "gid://shopify/LineItem/22", "__parentId": "gid://shopify/Order/2"}]
    objects = list(bulk_objects(iter(lines)))
    assert [[li["id"][-2:] for li in graphql_ingest.nodes(o, "lineItems")] for o in objects] == [["11"], ["21", "22"]]
    orphan = [{"id": "gid://shopify/Order/1"}, {"id": "gid://shopify/LineItem/21", "__parentId": "gid://shopify/Order/2"}]
    with pytest.raises(BulkOperationError, match="names parent gid://shopify/Order/2"):
        list(bulk_objects(iter(orphan)))


def test_oversold_stock_is_nothing_available_in_graphql_as_in_rest():
    from integrations.shopify import ingest

    rest = {"id": 632910392, "title": "IPod Nano", "updated_at": "2026-11-01T00:00:00+00:00",
            "variants": [{"id": 808950810, "sku": "IPOD-PINK", "title": "Pink", "price": "199.00",
                          "inventory_quantity": -3, "inventory_item_id": 808950810}]}
    graphql = {"id": "gid://shopify/Product/632910392", "title": "IPod Nano", "updatedAt": "2026-11-01T00:00:00Z",
               "variants": {"edges": [{"node": {"id": "gid://shopify/ProductVariant/808950810", "sku": "IPOD-PINK",
                                                "title": "Pink", "price": "199.00", "inventoryQuantity": -3,
                                                "inventoryItem": {"id": "gid://shopify/InventoryItem/808950810"}}}]}}
    [from_rest] = ingest.product_inventory_facts(rest)
    [from_graphql] = graphql_ingest.product_inventory_facts(graphql)
    assert from_rest.quantity_available == from_graphql.quantity_available == 0
