"""Where a backfill's own CPU goes, in-process, for comparing a change before/after on a shared machine.

    python bench/profile_backfill.py [--orders 5000] [--customers 1000] [--rounds 3]

Wall-clock figures on this machine move with the other processes' minute; CPU time of our own process
(cProfile with time.process_time) and ratios taken in the same process do not. The pages are fetched
from the fake shop once, beforehand, and handed to `backfill_run` from memory, so HTTP is out of the
picture. Each round backfills the same orders into an emptied table (full run), then the same again
unchanged (the rerun). Printed: our process's CPU per step (cumulative, median over the rounds), the
wall time of the run, and the tombstone check alone, old way (a lock per identifier) against the page
gate, alternated in this one process on the same pages.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import pstats
import statistics
import time

from _common import setup, table

STEPS = {  # (file suffix, function name) -> label
    ("integrations/shopify/backfill.py", "_apply_page"): "page, all of it",
    ("integrations/shopify/backfill.py", "_page_reads"): "skip unchanged + stock lookup (SELECTs)",
    ("integrations/shopify/ingest.py", "order_facts"): "normalize (order_facts)",
    ("customers/services.py", "orders_bulk_upsert"): "upsert, all of it",
    ("customers/selectors.py", "tombstones_covering_page"): "  tombstone check (gate, look-up, customers)",
    ("customers/selectors.py", "tombstone_keys"): "    keyed hashes",
    ("customers/services.py", "_order_values"): "  the row per order (plain, for COPY)",
    ("omnichannel/upserts.py", "rows_upsert_newer"): "  COPY + INSERT SELECT",
    ("omnichannel/audit.py", "audit_log_write"): "  audit row",
    ("integrations/shopify/backfill.py", "_save_page"): "page transaction (upsert + checkpoint + commit)",
    ("customers/selectors.py", "customer_summary_refresh"): "customer_summary refresh (inline)",
}


def _cpu_by_step(profile: cProfile.Profile) -> dict[str, float]:
    stats = pstats.Stats(profile).stats
    found = dict.fromkeys(STEPS.values(), 0.0)
    for (filename, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.items():
        for (suffix, function), label in STEPS.items():
            if name == function and filename.endswith(suffix):
                found[label] += cumulative
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=5_000)
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    setup()
    from ingest import _serve

    queue = multiprocessing.get_context("fork").Queue()
    server = multiprocessing.get_context("fork").Process(target=_serve, args=(args.orders, args.customers, queue),
                                                         daemon=True)
    server.start()
    url = queue.get(timeout=120)
    from django.conf import settings
    from django.db import connection, transaction

    from customers.models import Order
    from customers.selectors import tombstones_covering
    from integrations.shopify import ingest
    from integrations.shopify.backfill import backfill_run
    from integrations.shopify.client import ShopifyClient

    settings.SHOPIFY_PACE_SECONDS = 0
    client = ShopifyClient(base_url=url, access_token="bench", api_version="2025-01")
    backfill_run(resources=["customers"], client=client)
    pages = list(client.paginate("orders.json", "orders", {"status": "any", "order": "updated_at asc"}))
    server.terminate()
    client.paginate = lambda *a, **k: iter(pages)

    cpu: dict[str, list[float]] = {}
    wall: dict[str, list[float]] = {"first run": [], "unchanged rerun": []}
    for _ in range(args.rounds):
        Order.objects.all().delete()
        for label in ("first run", "unchanged rerun"):
            profile = cProfile.Profile(time.process_time)
            started = time.perf_counter()
            profile.runcall(backfill_run, resources=["orders"], client=client, full=True)
            wall[label].append(time.perf_counter() - started)
            for step, seconds in _cpu_by_step(profile).items():
                cpu.setdefault(f"{label}: {step}", []).append(seconds)
        assert Order.objects.count() == args.orders

    # The tombstone check alone, the old way and the gate, alternated on the same pages' identifiers.
    facts = [[ingest.order_facts(row) for row in rows] for rows, _next in pages]
    ways = {"a lock per identifier (before)": True, "the page gate (after)": "page"}
    check: dict[str, dict[str, list[float]]] = {way: {"wall": [], "cpu": []} for way in ways}
    for _ in range(args.rounds):
        for way, lock in ways.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            for page in facts:
                with transaction.atomic():
                    tombstones_covering(emails=[f.email for f in page],
                                        shopify_customer_ids=[f.customer_shopify_id for f in page],
                                        shopify_order_ids=[f.shopify_id for f in page], lock=lock)
            check[way]["wall"].append((time.perf_counter() - started) / len(facts) * 1000)
            check[way]["cpu"].append((time.process_time() - started_cpu) / len(facts) * 1000)
    connection.close()

    median = statistics.median
    table(f"Backfill of {args.orders:,} orders, pages from memory: our process's CPU seconds per step "
          f"(cProfile, cumulative), median of {args.rounds}",
          [(step, f"{median(values):.3f}", f"{min(values):.3f}-{max(values):.3f}") for step, values in cpu.items()]
          + [(f"wall, {label}", f"{median(values):.3f}", f"{min(values):.3f}-{max(values):.3f}")
             for label, values in wall.items()], ("step", "median s", "range"))
    table(f"Tombstone check per page ({len(facts[0])} orders: {3 * len(facts[0])} identifiers), ms, median of "
          f"{args.rounds}", [(way, f"{median(v['wall']):.2f}", f"{median(v['cpu']):.2f}") for way, v in check.items()],
          ("way", "wall ms", "our CPU ms"))


if __name__ == "__main__":
    main()
