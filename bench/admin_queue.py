"""The agents' draft queue and review page at scale: SQL query count and latency, on Postgres.

    python bench/admin_queue.py [--quick]   # 100,000 conversations, 300,000 messages, 50,000 pending drafts

The query count must not grow with rows (it is also asserted in tests/admin at 10 and 200
drafts); p95 target under 300 ms. Baseline in the same run: the admin's index page.
"""

from __future__ import annotations

import argparse
import random
import time

from _common import figure, setup, summary, table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    conversations, per, pending, repeat = (5_000, 3, 2_500, 20) if args.quick else (100_000, 3, 50_000, 40)
    setup()
    from _load import conversations_messages_drafts, customers_and_orders
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core import signals
    from django.db import close_old_connections, connection, reset_queries
    from django.test import Client

    # Keep one connection and its query log across requests, to count each page's queries.
    signals.request_started.disconnect(reset_queries)
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    customers_and_orders(conversations // 4, conversations // 2)
    conversations_messages_drafts(conversations, per, pending, conversations // 4)
    user = get_user_model().objects.create_user(username="bench-agent", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Agents"))
    client = Client()
    client.force_login(user)
    rng = random.Random(5)
    pages = {
        "queue, first page": lambda: "/admin/conversations/draft/?status__exact=pending",
        "queue, low confidence filter": lambda: "/admin/conversations/draft/?status__exact=pending&confidence=low",
        f"queue, page {pending // 100}": lambda: f"/admin/conversations/draft/?status__exact=pending&p={pending // 100}",
        "review page": lambda: f"/admin/conversations/draft/{rng.randint(1, pending)}/change/",
        "baseline: admin index": lambda: "/admin/",
    }
    rows = []
    for name, url in pages.items():
        queries: list[str] = []

        def count(execute, sql, params, many, context, seen=queries):
            seen.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            assert client.get(url()).status_code == 200
        times = []
        for _ in range(repeat):
            target = url()
            started = time.perf_counter()
            assert client.get(target).status_code == 200
            times.append((time.perf_counter() - started) * 1000)
        rows.append((name, len(queries), *summary(times)))
    table(f"Admin at {conversations:,} conversations / {conversations * per:,} messages / {pending:,} pending drafts "
          f"({repeat} requests each, ms)", rows, ("page", "queries", "p50", "p95", "p99"))
    worst = max(float(r[3]) for r in rows)
    p95 = {r[0]: float(r[3]) for r in rows}
    deep = p95[f"queue, page {pending // 100}"] / p95["queue, first page"]
    print(f"\nworst p95 / 300 ms target = {worst / 300:.2f};  page {pending // 100} p95 / first page p95 = {deep:.2f} "
          "(target <= 2)")
    figure("admin_queue: worst page p95", worst, unit="ms", target="< 300")
    figure("admin_queue: first page p95", p95["queue, first page"], unit="ms", better="lower")
    figure(f"admin_queue: page {pending // 100} p95 / first page p95", deep, unit="x", target="<= 2")
    figure("admin_queue: review page p95", p95["review page"], unit="ms", better="lower")


if __name__ == "__main__":
    main()
