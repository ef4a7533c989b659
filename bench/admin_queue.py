"""The agents' draft queue and review page at scale: SQL query count and latency, on Postgres.

    python bench/admin_queue.py [--quick]   # 100,000 conversations, 300,000 messages, 50,000 pending drafts

The query count must not grow with rows (tests/conversations/test_workspace_query_counts.py asserts it
page by page); p95 target under 300 ms for the first page, and page 500 (OFFSET 24,950) within 2x
of page 1: deep pages are read as a deferred join (conversations/admin_paging.py). Baseline in
the same run: the admin's index page, so the ratios hold on a noisy shared machine. The SQL table
times, at OFFSET 25,000, the query a plain OFFSET page would run (every joined column of every
skipped row) against the deferred join's two queries.
"""

from __future__ import annotations

import random
import time

from _common import bench_sizes, figure, setup, summary, table, timed


def main() -> None:
    conversations, per, pending, repeat = bench_sizes(quick=(5_000, 3, 2_500, 20), full=(100_000, 3, 50_000, 40))
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
    deep_page = f"queue, page {pending // 100}"
    first, deep_p95, base = p95["queue, first page"], p95[deep_page], p95["baseline: admin index"]
    print(f"\nfirst page p95 {first:.1f} ms ({first / base:.2f}x the admin index);  page {pending // 100} p95 "
          f"{deep_p95:.1f} ms ({deep_p95 / base:.2f}x the admin index);  page {pending // 100} / first page = "
          f"{deep_p95 / first:.2f} (target <= 2);  worst p95 / 300 ms target = {worst / 300:.2f}")
    sql_at_offset(offset=min(25_000, pending - 50), repeat=repeat)
    figure("admin_queue: worst page p95", worst, unit="ms", target="< 300")
    figure("admin_queue: first page p95", first, unit="ms", target="< 300")
    figure(f"admin_queue: page {pending // 100} p95", deep_p95, unit="ms", target="< 300")
    figure("admin_queue: first page p95 / admin index p95", first / base, unit="x", better="lower")
    figure(f"admin_queue: page {pending // 100} p95 / admin index p95", deep_p95 / base, unit="x", better="lower")
    figure(f"admin_queue: page {pending // 100} p95 / first page p95", deep_p95 / first, unit="x", target="<= 2")
    figure("admin_queue: review page p95", p95["review page"], unit="ms", better="lower")


def sql_at_offset(*, offset: int, repeat: int) -> None:
    """The queue's page at `offset` as SQL: one plain OFFSET query with the joined columns, against the
    deferred join (the ids alone, then the page's rows joined), timed in the database alone."""
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    from conversations.admin import DraftAdmin
    from conversations.models import Draft

    admin = DraftAdmin(Draft, None)
    request = RequestFactory().get("/")
    request.user = get_user_model().objects.get(username="bench-agent")
    queue = Draft.objects.filter(status="pending").order_by("waiting_since", "id")
    ids = list(queue.values_list("pk", flat=True)[offset:offset + 50])
    queries = {
        "plain OFFSET, joined columns": lambda: list(admin.changelist_rows(queue)[offset:offset + 50]),
        "deferred join: 1. the page's ids": lambda: list(queue.values_list("pk", flat=True)[offset:offset + 50]),
        "deferred join: 2. the 50 rows joined": lambda: list(admin.changelist_rows(queue.filter(pk__in=ids))),
        "baseline: first page, joined columns": lambda: list(admin.changelist_rows(queue)[:50]),
    }
    rows = [(name, *summary(timed(run, repeat))) for name, run in queries.items()]
    table(f"The queue's SQL at OFFSET {offset:,} ({repeat} runs each, ms)", rows, ("query", "p50", "p95", "p99"))
    p95 = {r[0]: float(r[2]) for r in rows}
    deferred = p95["deferred join: 1. the page's ids"] + p95["deferred join: 2. the 50 rows joined"]
    plain = p95["plain OFFSET, joined columns"]
    print(f"\nat OFFSET {offset:,}: deferred join {deferred:.1f} ms vs plain OFFSET {plain:.1f} ms "
          f"({plain / deferred:.1f}x faster); first page {p95['baseline: first page, joined columns']:.1f} ms")
    figure(f"admin_queue: SQL at OFFSET {offset:,}, plain / deferred join p95", plain / deferred, unit="x",
           better="higher")


if __name__ == "__main__":
    main()
