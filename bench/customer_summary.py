"""The customer_summary read model: API latency and the concurrent refresh, on Postgres.

    python bench/customer_summary.py [--quick]     # 100,000 customers, 300,000 orders (quick: 10k/30k)

Prints p50/p95/p99 of `GET /api/customer_summary/<id>/` and `?email=` in process (Django test
client, token auth) against a baseline in the same run: a bare primary-key SELECT of one
customer; and the time of `REFRESH MATERIALIZED VIEW CONCURRENTLY`. Target: p95 under 20 ms.
"""

from __future__ import annotations

import random
import time

from _common import bench_sizes, figure, setup, summary, table


def main() -> None:
    customers, orders, repeat = bench_sizes(quick=(10_000, 30_000, 200), full=(100_000, 300_000, 500))
    setup()
    from _load import customers_and_orders
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client

    from accounts.services import api_token_create
    from customers.selectors import customer_summary_refresh

    customers_and_orders(customers, orders)
    started = time.perf_counter()
    customer_summary_refresh()
    refresh = time.perf_counter() - started
    user = get_user_model().objects.create_user(username="bench-agent")
    user.groups.add(Group.objects.get(name="Agents"))
    client = Client(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user)[1]}")
    rng = random.Random(3)

    def by_id():
        assert client.get(f"/api/customer_summary/{rng.randint(1, customers)}/").status_code == 200

    def by_email():
        assert client.get(f"/api/customer_summary/?email=c{rng.randint(1, customers)}@bench.example").status_code == 200

    def bare():
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM customers WHERE id = %s", [rng.randint(1, customers)])
            cursor.fetchone()

    for fn in (by_id, by_email, bare):
        fn()
    results = {name: [] for name in ("by_id", "by_email", "bare")}
    for _ in range(repeat):  # interleaved, so machine noise hits all three alike
        for name, fn in (("by_id", by_id), ("by_email", by_email), ("bare", bare)):
            started = time.perf_counter()
            fn()
            results[name].append((time.perf_counter() - started) * 1000)
    rows = [("GET /api/customer_summary/<id>/", *summary(results["by_id"])),
            ("GET /api/customer_summary/?email=", *summary(results["by_email"])),
            ("baseline: bare pk SELECT", *summary(results["bare"]))]
    table(f"customer_summary, {customers:,} customers / {orders:,} orders, {repeat} requests each (ms)", rows,
          ("what", "p50", "p95", "p99"))
    p95 = float(summary(results["by_id"])[1])
    print(f"\nREFRESH MATERIALIZED VIEW CONCURRENTLY: {refresh:.2f} s;  API p95 / 20 ms target = {p95 / 20:.2f}")
    figure("customer_summary: API p95", p95, unit="ms", target="< 20")
    figure("customer_summary: bare pk SELECT p95", float(summary(results["bare"])[1]), unit="ms", better="lower")
    figure("customer_summary: REFRESH CONCURRENTLY", refresh, unit="s", better="lower")
    started = time.perf_counter()
    customer_summary_refresh()
    print(f"second refresh (nothing changed): {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
