"""Signed webhook intake under load: the app on gunicorn (2 workers), load from a separate process.

    python bench/webhooks.py [--quick]

For Shopify and Zoho deliveries (each unique, signed) and for a bare view (`/healthz`, the
baseline) in the same run: (1) closed loop, 16 concurrent senders, N requests: throughput and
latency; (2) open loop paced at 200 requests/second: p50/p99. Targets: p99 under 50 ms at
200 req/s; throughput at least half the bare view's. Intake stores the raw body and enqueues the
processing task on Redis; no worker runs during the benchmark (the queue is purged afterwards).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from _common import BENCH_DB, ROOT, setup, summary, table

SECRET = "bench-webhook-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(kind: str, n: int) -> tuple[str, bytes, dict]:
    if kind == "shopify":
        body = json.dumps({"id": 70_000_000 + n, "name": f"#B{n}", "email": f"b{n}@example.com",
                           "financial_status": "paid", "total_price": "10.00", "line_items": [],
                           "updated_at": "2026-11-20T10:00:00+00:00"}).encode()
        sig = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
        return "/webhooks/shopify/", body, {"X-Shopify-Topic": "orders/updated", "X-Shopify-Hmac-Sha256": sig,
                                           "X-Shopify-Webhook-Id": f"bench-{n}-{time.time_ns()}",
                                           "Content-Type": "application/json"}
    if kind == "zoho":
        body = json.dumps({"messageId": str(time.time_ns() + n), "fromAddress": f"z{n}@example.com",
                           "subject": "Bench", "html": "<p>Where is my order?</p>",
                           "receivedTime": "1764000000000"}).encode()
        sig = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
        return "/webhooks/zoho/", body, {"X-Hook-Signature": sig, "Content-Type": "application/json"}
    return "/healthz", b"", {}


def _load(base: str, kind: str, count: int, concurrency: int, rate: float | None, out) -> None:
    import requests

    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=concurrency, pool_maxsize=concurrency)
    session.mount("http://", adapter)
    latencies, statuses = [], {}

    def one(n: int) -> None:
        if rate:
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        path, body, headers = _request(kind, n)
        began = time.perf_counter()
        response = session.post(base + path, data=body, headers=headers) if body else session.get(base + path)
        latencies.append((time.perf_counter() - began) * 1000)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(count)))
    out.put({"seconds": time.perf_counter() - start, "latencies": latencies, "statuses": statuses})


def run(base: str, kind: str, count: int, concurrency: int, rate: float | None = None) -> dict:
    queue = multiprocessing.get_context("spawn").Queue()
    process = multiprocessing.get_context("spawn").Process(target=_load, args=(base, kind, count, concurrency, rate, queue))
    process.start()
    result = queue.get(timeout=600)
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    count = 400 if args.quick else 2000
    setup()
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": BENCH_DB, "SYNC_USE_CELERY": "1", "SHOPIFY_WEBHOOK_SECRET": SECRET,
           "ZOHO_WEBHOOK_SECRET": SECRET, "LOG_LEVEL": "ERROR", "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost"}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "omnichannel.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}",
                               "--log-level", "error"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        run(base, "bare", 50, 4)  # warm up both workers
        rows, paced = [], []
        for kind in ("bare", "shopify", "zoho"):
            closed = run(base, kind, count, 16)
            rows.append((kind, f"{count / closed['seconds']:,.0f}", *summary(closed["latencies"]),
                         json.dumps(closed["statuses"])))
            open_loop = run(base, kind, min(count, 1000), 32, rate=200)
            paced.append((kind, *summary(open_loop["latencies"]), json.dumps(open_loop["statuses"])))
        table(f"Webhook intake on gunicorn (2 workers), closed loop, 16 senders, {count} requests each", rows,
              ("target", "req/s", "p50 ms", "p95 ms", "p99 ms", "statuses"))
        table("Open loop paced at 200 req/s", paced, ("target", "p50 ms", "p95 ms", "p99 ms", "statuses"))
        bare = float(rows[0][1].replace(",", ""))
        for row in rows[1:]:
            print(f"{row[0]}: throughput / bare = {float(row[1].replace(',', '')) / bare:.2f} (target >= 0.5)")
    finally:
        server.terminate()
        server.wait(10)
        from omnichannel.celery import app

        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge("celery")


if __name__ == "__main__":
    main()
