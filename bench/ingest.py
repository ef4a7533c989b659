"""Shopify backfill of N orders (with customers and line items) through the real client,
normalizer and bulk upsert, on Postgres, against the floor and the naive way in the same run.

    python bench/ingest.py [--quick]        # 50,000 orders (quick: 5,000)

- ours: pages from the fake shop (a separate process, over HTTP, 250 per page) -> normalize ->
  one INSERT ... ON CONFLICT per page, cursor saved per page.
- floor: the same normalized rows upserted with raw psycopg `executemany` of
  INSERT ... ON CONFLICT DO UPDATE into an identical table (no HTTP, no Django).
- naive: Django `update_or_create` per row, on a 2,000-row sample.
- rerun: the same backfill again with every row unchanged.
Targets: ours >= 0.5 x floor; rerun >= 3 x faster than the first run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time

from _common import setup, table


def _orders(n: int, customers: int) -> dict:
    resources = {"customers": [], "orders": [], "products": [], "pages": []}
    for c in range(customers):
        resources["customers"].append({
            "id": 10_000_000 + c, "email": f"buyer{c}@bench.example", "first_name": "Buyer", "last_name": str(c),
            "orders_count": 5, "total_spent": "250.00", "currency": "USD",
            "updated_at": "2026-11-01T00:00:00+00:00", "addresses": []})
    for i in range(n):
        resources["orders"].append({
            "id": 20_000_000 + i, "name": f"#{100000 + i}", "email": f"buyer{i % customers}@bench.example",
            "customer": {"id": 10_000_000 + i % customers}, "financial_status": "paid",
            "fulfillment_status": "fulfilled" if i % 3 else None, "total_price": f"{10 + i % 90}.50",
            "currency": "USD", "created_at": "2026-10-01T10:00:00+00:00",
            "updated_at": f"2026-10-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00+00:00",
            "line_items": [{"sku": f"SKU-{i % 500}", "name": "Thing", "quantity": 1 + i % 3, "price": "10.00"},
                           {"sku": f"SKU-{(i + 7) % 500}", "name": "Other", "quantity": 1, "price": "5.50"}],
            "fulfillments": [{"status": "success", "tracking_company": "UPS", "tracking_numbers": [f"1Z{i:012d}"],
                              "tracking_urls": [f"https://ups.example/{i}"]}] if i % 3 else []})
    return resources


def _serve(n, customers, queue):  # runs in a child process: the fake shop must not share our GIL
    import _common  # noqa: F401 - sys.path and settings module
    import django

    django.setup()
    from integrations.shopify.fake import FakeShop

    shop = FakeShop(_orders(n, customers), bucket_size=10_000)
    queue.put(shop.url)
    while True:
        time.sleep(3600)


FLOOR_SQL = """INSERT INTO orders_floor (shopify_id, name, customer_id, email, status, financial_status,
  fulfillment_status, tracking_numbers, tracking, line_items, refunds, total_price_cents, currency, shipping_address,
  placed_at, cancelled_at, last_event_at, source_updated_at, is_erased, created_at, updated_at)
VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,false,now(),now())
ON CONFLICT (shopify_id) DO UPDATE SET name=EXCLUDED.name, customer_id=EXCLUDED.customer_id, email=EXCLUDED.email,
  status=EXCLUDED.status, financial_status=EXCLUDED.financial_status, fulfillment_status=EXCLUDED.fulfillment_status,
  tracking_numbers=EXCLUDED.tracking_numbers, tracking=EXCLUDED.tracking, line_items=EXCLUDED.line_items,
  refunds=EXCLUDED.refunds, total_price_cents=EXCLUDED.total_price_cents, currency=EXCLUDED.currency,
  shipping_address=EXCLUDED.shipping_address, placed_at=EXCLUDED.placed_at, cancelled_at=EXCLUDED.cancelled_at,
  last_event_at=EXCLUDED.last_event_at, source_updated_at=EXCLUDED.source_updated_at, updated_at=now()"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n, customers = (5_000, 1_000) if args.quick else (50_000, 10_000)
    setup()
    queue = multiprocessing.get_context("fork").Queue()
    server = multiprocessing.get_context("fork").Process(target=_serve, args=(n, customers, queue), daemon=True)
    server.start()
    url = queue.get(timeout=120)
    from django.conf import settings
    from django.db import connection

    from customers.models import Customer, Order
    from integrations.shopify import ingest
    from integrations.shopify.backfill import backfill_run
    from integrations.shopify.client import ShopifyClient

    settings.SHOPIFY_PACE_SECONDS = 0
    client = ShopifyClient(base_url=url, access_token="bench", api_version="2025-01")
    backfill_run(resources=["customers"], client=client)

    started = time.perf_counter()
    report = backfill_run(resources=["orders"], client=client, full=True)
    ours = time.perf_counter() - started
    assert Order.objects.count() == n, report
    started = time.perf_counter()
    backfill_run(resources=["orders"], client=client, full=True)
    rerun = time.perf_counter() - started

    # The floor: the same normalized rows, raw psycopg, into an identical empty table.
    rows = _orders(n, customers)["orders"]
    customer_ids = dict(Customer.objects.values_list("shopify_id", "pk"))
    params = []
    for row in rows:
        f = ingest.order_facts(row)
        params.append((f.shopify_id, f.name, customer_ids.get(f.customer_shopify_id), f.email, f.status,
                       f.financial_status, f.fulfillment_status, json.dumps([t["number"] for t in f.tracking]),
                       json.dumps(f.tracking), json.dumps(f.line_items), json.dumps(f.refunds), f.total_price_cents,
                       f.currency, json.dumps(f.shipping_address), f.placed_at, f.cancelled_at, f.source_updated_at,
                       f.source_updated_at))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS orders_floor")
        cursor.execute("CREATE TABLE orders_floor (LIKE orders INCLUDING ALL)")
    raw = connection.connection  # the psycopg connection itself
    started = time.perf_counter()
    with raw.cursor() as cursor:
        for start in range(0, len(params), 1000):
            cursor.executemany(FLOOR_SQL, params[start:start + 1000])
    raw.commit()
    floor = time.perf_counter() - started

    sample = rows[:2000]
    started = time.perf_counter()
    for row in sample:
        f = ingest.order_facts(row)
        Order.objects.update_or_create(shopify_id=str(int(f.shopify_id) + 100_000_000), defaults={
            "name": f.name, "email": f.email, "status": f.status, "tracking": f.tracking, "line_items": f.line_items,
            "total_price_cents": f.total_price_cents, "source_updated_at": f.source_updated_at})
    naive = time.perf_counter() - started
    server.terminate()

    rate = lambda count, seconds: f"{count / seconds:,.0f}"  # noqa: E731
    table(f"Shopify order backfill, {n:,} orders ({customers:,} customers), Postgres", [
        ("ours: HTTP pages + normalize + bulk upsert", f"{ours:.2f}", rate(n, ours), f"{(n / ours) / (n / floor):.2f}"),
        ("floor: raw psycopg executemany upsert", f"{floor:.2f}", rate(n, floor), "1.00"),
        ("naive: update_or_create per row (2,000)", f"{naive:.2f}", rate(len(sample), naive),
         f"{(len(sample) / naive) / (n / floor):.2f}"),
        ("rerun of ours, all rows unchanged", f"{rerun:.2f}", rate(n, rerun), f"{(n / rerun) / (n / floor):.2f}"),
    ], ("path", "seconds", "rows/s", "x floor"))
    print(f"\nours / floor = {(n / ours) / (n / floor):.2f} (target >= 0.5); first run / rerun = {ours / rerun:.1f}x "
          "(target >= 3)")


if __name__ == "__main__":
    main()
