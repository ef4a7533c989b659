"""Shopify backfill of N orders (with customers and line items) through the real client,
normalizer and bulk upsert, on Postgres, against the floor and the naive way in the same run.

    python bench/ingest.py [--quick]        # 50,000 orders (quick: 5,000)

- ours: pages from the fake shop (a separate process, over HTTP, 250 per page; the next page fetched in a
  thread meanwhile) -> skip unchanged rows -> normalize -> erasure tombstones checked -> COPY into a staging
  table + one INSERT ... SELECT ... ON CONFLICT per page, audit row and cursor saved per page; customer_summary
  refreshed inline (embedded mode) once a minute of the run and after its last page, as production's run does.
- floor: the same unavoidable work and nothing else: the same HTTP pages fetched from the same fake
  shop and JSON-decoded, each row normalized by the same function, then per page COPY into a
  temporary table + one INSERT ... SELECT ... ON CONFLICT DO UPDATE (newer rows only) and a commit,
  with raw psycopg into an identical empty table (no Django, no checkpoint, no audit row).
- naive: Django `update_or_create` per row, on a 2,000-row sample.
- rerun: the same backfill again with every row unchanged.
Targets: ours >= 0.7 x floor; rerun >= 3 x faster than the first run.
"""

from __future__ import annotations

import json
import multiprocessing
import time

import psycopg
from _common import BENCH_DB, bench_sizes, figure, setup, table


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


# The floor's staging table: the columns of `orders` the backfill writes, plus the customer's Shopify id
# (the INSERT … SELECT joins customers for the foreign key, as ours looks them up per page).
STAGE_COLUMNS = ("shopify_id", "name", "customer_shopify_id", "email", "status", "financial_status",
                 "fulfillment_status", "tracking_numbers", "tracking", "line_items", "refunds", "total_price_cents",
                 "currency", "shipping_address", "placed_at", "cancelled_at", "last_event_at", "source_updated_at")
FLOOR_UPSERT = """INSERT INTO orders_floor (shopify_id, name, customer_id, customer_shopify_id, email, status,
  financial_status, fulfillment_status, tracking_numbers, tracking, line_items, refunds, total_price_cents, currency,
  shipping_address, placed_at, cancelled_at, last_event_at, source_updated_at, is_erased, created_at, updated_at)
SELECT s.shopify_id, s.name, c.id, s.customer_shopify_id, s.email, s.status, s.financial_status, s.fulfillment_status,
  s.tracking_numbers, s.tracking, s.line_items, s.refunds, s.total_price_cents, s.currency, s.shipping_address,
  s.placed_at, s.cancelled_at, s.last_event_at, s.source_updated_at, false, now(), now()
FROM orders_stage s LEFT JOIN customers c ON c.shopify_id = s.customer_shopify_id
ON CONFLICT (shopify_id) DO UPDATE SET name=EXCLUDED.name, customer_id=EXCLUDED.customer_id,
  customer_shopify_id=EXCLUDED.customer_shopify_id, email=EXCLUDED.email, status=EXCLUDED.status,
  financial_status=EXCLUDED.financial_status, fulfillment_status=EXCLUDED.fulfillment_status,
  tracking_numbers=EXCLUDED.tracking_numbers, tracking=EXCLUDED.tracking, line_items=EXCLUDED.line_items,
  refunds=EXCLUDED.refunds, total_price_cents=EXCLUDED.total_price_cents, currency=EXCLUDED.currency,
  shipping_address=EXCLUDED.shipping_address, placed_at=EXCLUDED.placed_at, cancelled_at=EXCLUDED.cancelled_at,
  last_event_at=EXCLUDED.last_event_at, source_updated_at=EXCLUDED.source_updated_at, updated_at=now()
WHERE orders_floor.source_updated_at IS NULL OR EXCLUDED.source_updated_at > orders_floor.source_updated_at"""


def _pages(session, url: str):
    """Every page of orders as ours asks for them (same path, parameters and page size), JSON-decoded."""
    from integrations.shopify.client import _LINK_NEXT, PAGE_LIMIT

    query = {"status": "any", "order": "updated_at asc", "limit": PAGE_LIMIT}
    while url:
        response = session.get(url, params=query, timeout=60)
        response.raise_for_status()
        match = _LINK_NEXT.search(response.headers.get("Link", ""))
        url, query = (match.group(1) if match else ""), None
        yield response.json()["orders"]


def floor_backfill(raw, base_url: str) -> dict[str, float]:
    """The same unavoidable work as ours, and nothing else: the same HTTP pages fetched and JSON-decoded,
    each row normalized by the same function (the values must be the same), then Postgres' fastest upsert
    per page: COPY into a temporary table, one INSERT … SELECT … ON CONFLICT DO UPDATE (newer rows only),
    a commit per page as ours (a backfill resumes from its last committed page). Raw psycopg, no Django."""
    import requests

    from integrations.shopify import ingest

    spent = {"http + json": 0.0, "normalize": 0.0, "copy + upsert + commit": 0.0}
    with raw.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE orders_stage (shopify_id text, name text, customer_shopify_id text, "
                       "email text, status text, financial_status text, fulfillment_status text, tracking_numbers "
                       "jsonb, tracking jsonb, line_items jsonb, refunds jsonb, total_price_cents bigint, currency "
                       "text, shipping_address jsonb, placed_at timestamptz, cancelled_at timestamptz, last_event_at "
                       "timestamptz, source_updated_at timestamptz) ON COMMIT DELETE ROWS")
    raw.commit()
    dumps = json.dumps
    with requests.Session() as session:
        session.headers.update({"X-Shopify-Access-Token": "bench", "Accept": "application/json"})
        pages = _pages(session, f"{base_url}/admin/api/2025-01/orders.json")
        while True:
            t0 = time.perf_counter()
            rows = next(pages, None)
            t1 = time.perf_counter()
            spent["http + json"] += t1 - t0
            if rows is None:
                break
            # The page's stock lookup, as ours (an order waiting on an out-of-stock item is a backorder).
            skus = [str(li["sku"]) for row in rows for li in row.get("line_items") or [] if li.get("sku")]
            with raw.cursor() as cursor:
                out_of_stock = {sku for (sku,) in cursor.execute(
                    "SELECT sku FROM inventory_items WHERE sku = ANY(%s) AND quantity_available <= 0 AND tracked",
                    [skus]).fetchall()}
            values = []
            for row in rows:
                f = ingest.order_facts(row, out_of_stock=out_of_stock)
                values.append((f.shopify_id, f.name, f.customer_shopify_id or None, f.email.lower() if f.email else "",
                               f.status, f.financial_status, f.fulfillment_status,
                               dumps([t["number"] for t in f.tracking if t.get("number")]), dumps(f.tracking),
                               dumps(f.line_items), dumps(f.refunds), f.total_price_cents, f.currency,
                               dumps(f.shipping_address), f.placed_at, f.cancelled_at,
                               f.source_updated_at or f.placed_at, f.source_updated_at))
            t2 = time.perf_counter()
            with raw.cursor() as cursor:
                with cursor.copy(f"COPY orders_stage ({', '.join(STAGE_COLUMNS)}) FROM STDIN") as copy:
                    for value in values:
                        copy.write_row(value)
                cursor.execute(FLOOR_UPSERT)
            raw.commit()
            spent["normalize"] += t2 - t1
            spent["copy + upsert + commit"] += time.perf_counter() - t2
    return spent


HTTP_STEP = "http + json (in the prefetch thread, overlapping the steps below)"
UPSERT_STEP = "upsert (tombstones + customers SELECT, COPY + INSERT SELECT, audit row)"
READS_STEP = "skip unchanged + stock lookup (SELECTs)"
REFRESH_STEP = "customer_summary refresh, inline (once a minute and after the run)"


def ours_split(client, run) -> tuple[float, dict[str, float]]:
    """Run ours (`run()`) with each step timed, to say where its time goes beside the floor's. The steps are
    our own functions wrapped by a timer that calls through (restored afterwards); the wrappers cost ~1%."""
    import dataclasses

    import customers.tasks as customer_tasks
    from integrations.shopify import backfill

    spent = {HTTP_STEP: 0.0, READS_STEP: 0.0, "normalize": 0.0,
             UPSERT_STEP: 0.0,
             "checkpoint (cursor row) + commit": 0.0, REFRESH_STEP: 0.0}

    def timer(step, fn):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[step] += time.perf_counter() - started
        return timed

    def paginate(*args, original=client.paginate, **kwargs):
        pages = original(*args, **kwargs)
        while True:
            started = time.perf_counter()
            page = next(pages, None)
            spent[HTTP_STEP] += time.perf_counter() - started
            if page is None:
                return
            yield page

    spec = backfill.RESOURCES["orders"]
    saved = (backfill._page_reads, backfill._save_page, customer_tasks.customer_summary_refresh)
    backfill.RESOURCES["orders"] = dataclasses.replace(
        spec, normalize=timer("normalize", spec.normalize), upsert=timer(UPSERT_STEP, spec.upsert))
    backfill._page_reads = timer(READS_STEP, backfill._page_reads)
    backfill._save_page = timer("checkpoint (cursor row) + commit", backfill._save_page)
    customer_tasks.customer_summary_refresh = timer(REFRESH_STEP, saved[2])
    client.paginate = paginate
    try:
        started = time.perf_counter()
        run()
        seconds = time.perf_counter() - started
    finally:
        backfill.RESOURCES["orders"] = spec
        backfill._page_reads, backfill._save_page, customer_tasks.customer_summary_refresh = saved
        del client.paginate
    # _save_page's time includes the upsert: keep only what is its own. (The refresh runs outside it.)
    spent["checkpoint (cursor row) + commit"] -= spent[UPSERT_STEP]
    # The pages are fetched in a thread while the previous one is written: that time overlaps the rest.
    spent["other (Python between the steps, waiting for the next page)"] = seconds - sum(
        v for k, v in spent.items() if k != HTTP_STEP)
    return seconds, spent


def main() -> None:
    n, customers = bench_sizes(quick=(5_000, 1_000), full=(50_000, 10_000))
    setup()
    queue = multiprocessing.get_context("fork").Queue()
    server = multiprocessing.get_context("fork").Process(target=_serve, args=(n, customers, queue), daemon=True)
    server.start()
    url = queue.get(timeout=120)
    from django.conf import settings
    from django.db import connection

    from customers.models import Order
    from integrations.shopify import ingest
    from integrations.shopify.backfill import backfill_run
    from integrations.shopify.client import ShopifyClient

    settings.SHOPIFY_PACE_SECONDS = 0
    client = ShopifyClient(base_url=url, access_token="bench", api_version="2025-01")
    backfill_run(resources=["customers"], client=client)
    # Warm-up: every order page once, so neither timed path pays the fake shop's first sort or a cold cache.
    for _rows, _next in client.paginate("orders.json", "orders", {"status": "any", "order": "updated_at asc"}):
        pass

    ours, ours_steps = ours_split(client, lambda: backfill_run(resources=["orders"], client=client, full=True))
    assert Order.objects.count() == n
    started = time.perf_counter()
    backfill_run(resources=["orders"], client=client, full=True)
    rerun = time.perf_counter() - started

    # The floor, into an identical empty table (ours wrote into an empty `orders` too).
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS orders_floor")
        cursor.execute("CREATE TABLE orders_floor (LIKE orders INCLUDING ALL)")
    raw = psycopg.connect(BENCH_DB)
    try:
        started = time.perf_counter()
        floor_split = floor_backfill(raw, url)
        floor = time.perf_counter() - started
        floor_rows = raw.execute("SELECT count(*) FROM orders_floor").fetchone()[0]
    finally:
        raw.close()
    assert floor_rows == n, floor_rows

    rows = _orders(n, customers)["orders"]
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
        ("floor: same pages + normalize, COPY + INSERT SELECT", f"{floor:.2f}", rate(n, floor), "1.00"),
        ("naive: update_or_create per row (2,000)", f"{naive:.2f}", rate(len(sample), naive),
         f"{(len(sample) / naive) / (n / floor):.2f}"),
        ("rerun of ours, all rows unchanged", f"{rerun:.2f}", rate(n, rerun), f"{(n / rerun) / (n / floor):.2f}"),
    ], ("path", "seconds", "rows/s", "x floor"))
    table("Where the time goes, seconds (ours: each step of backfill_resource timed; floor: its three steps)",
          [(step, f"{seconds:.2f}") for step, seconds in ours_steps.items()]
          + [(f"floor: {step}", f"{seconds:.2f}") for step, seconds in floor_split.items()], ("step", "seconds"))
    print(f"\nours / floor = {(n / ours) / (n / floor):.2f} (target >= 0.7); first run / rerun = {ours / rerun:.1f}x "
          "(target >= 3)")
    figure("backfill: ours / floor", floor / ours, target=">= 0.7")
    figure("backfill: first run / unchanged rerun", ours / rerun, unit="x", target=">= 3")
    figure("backfill: ours rows/s", n / ours, unit="rows/s", better="higher")
    figure("backfill: floor rows/s", n / floor, unit="rows/s", better="higher")
    figure("backfill: floor's share in HTTP + JSON", floor_split["http + json"] / floor, better="")


if __name__ == "__main__":
    main()
