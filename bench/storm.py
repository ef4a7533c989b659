"""The scale-out drill on one machine: the production shape, then a webhook storm while a backfill runs.

    python bench/storm.py [--quick] [--deliveries 5000] [--backfill-orders 20000]

Started here, each its own process: gunicorn (deploy/gunicorn.conf.py, 2 workers x its threads), a Celery worker per
queue as docker-compose runs them (intake, drafts, send + default, long), moto's S3 server as the blob
store (BLOB_BUCKET), the fake Shopify shop the backfill pages through; Postgres and Redis as on the machine
(a database of its own, BENCH_STORM_DATABASE_URL). Then, at once:
- a `shopify_backfill` of the fake shop's orders and a `backup_db` (pg_dump into the bucket), both queued
  to the `long` worker;
- a storm of signed webhook deliveries, Shopify orders and Zoho emails, 30% of them re-sent duplicates,
  shuffled, and every order that has several versions receiving them newest first.
It waits until every delivery is processed, every email has its draft and the backfill is done, then
counts: every delivery stored and processed once, no lost or doubled row, each order at its newest
version, one draft per inbound email, and the time from a webhook's arrival to its pending draft (p50,
p95). Nothing is asserted against a clock; a wrong count exits 1.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import multiprocessing
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _common
from _common import ROOT, figure, table
from _http_load import http_request, load

from omnichannel.task_names import TaskName

SECRET = "storm-secret"
ORDER_BASE, MAIL_BASE = 30_000_000, 1_700_000_000_000_000_000
T0 = datetime(2026, 11, 1, tzinfo=UTC)
QUEUE_WORKERS = {"intake": 2, "drafts": 2, "send,celery": 1, "long": 2}  # queues: concurrency, as docker-compose


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _sign(body: bytes) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


def _order(n: int, version: int) -> dict:
    return {"id": ORDER_BASE + n, "name": f"#ST{n}", "email": f"st{n}@storm.example", "financial_status": "paid",
            "fulfillment_status": None, "total_price": f"{10 + version}.00", "currency": "USD", "line_items": [],
            "created_at": T0.isoformat(), "updated_at": (T0 + timedelta(minutes=version)).isoformat()}


def _mail(n: int) -> dict:
    return {"messageId": str(MAIL_BASE + n), "threadId": f"storm-{n}", "subject": f"Order question {n}",
            "fromAddress": f"mail{n}@storm.example", "toAddress": "support@demo-shop.example",
            "html": f"<p>Hello, where is my order #{1000 + n}? Thanks, customer {n}</p>",
            "receivedTime": str(1764000000000 + n)}


def storm_plan(total: int, rng: random.Random) -> tuple[list[tuple[str, str, bytes]], dict]:
    """(source, delivery id, body) for `total` deliveries: 70% distinct, 30% re-sends of an earlier one."""
    distinct = total - int(total * 0.3)
    mails = distinct // 5
    versioned = (distinct - mails) // 6  # orders with three versions each; the rest have one
    orders = distinct - mails - 2 * versioned
    originals = [("shopify", f"st-{n}-v1", ("order", n, 1)) for n in range(orders)]
    originals += [("shopify", f"st-{n}-v{v}", ("order", n, v)) for n in range(versioned) for v in (2, 3)]
    originals += [("zoho", str(MAIL_BASE + n), ("mail", n, 0)) for n in range(mails)]
    rng.shuffle(originals)
    # Out of order: an order's versions arrive newest first (the database must keep the newest).
    slots: dict[int, list[int]] = {}
    for i, (_, _, (kind, n, _v)) in enumerate(originals):
        if kind == "order" and n < versioned:
            slots.setdefault(n, []).append(i)
    for n, positions in slots.items():
        for position, version in zip(sorted(positions), (3, 2, 1), strict=True):
            originals[position] = ("shopify", f"st-{n}-v{version}", ("order", n, version))
    deliveries = list(originals)
    for _ in range(total - distinct):  # a re-send lands somewhere after its original
        original = originals[rng.randrange(len(originals))]
        deliveries.insert(rng.randrange(deliveries.index(original) + 1, len(deliveries) + 1), original)
    requests = []
    for source, delivery_id, (_kind, n, version) in deliveries:
        if source == "shopify":
            body = json.dumps(_order(n, version)).encode()
            requests.append(("/webhooks/shopify/", body, {
                "X-Shopify-Topic": "orders/updated", "X-Shopify-Webhook-Id": delivery_id,
                "X-Shopify-Hmac-Sha256": _sign(body), "Content-Type": "application/json"}))
        else:
            body = json.dumps(_mail(n)).encode()
            requests.append(("/webhooks/zoho/", body, {"X-Hook-Signature": _sign(body),
                                                        "Content-Type": "application/json"}))
    expected = {"distinct": distinct, "duplicates": total - distinct, "mails": mails, "orders": orders,
                "newest": {ORDER_BASE + n: 10 + (3 if n < versioned else 1) for n in range(orders)}}
    return requests, expected


class Processes:
    """Every process the drill starts, stopped together (their process groups) at the end."""

    def __init__(self, log_dir: Path):
        self.log_dir, self.started = log_dir, []

    def start(self, name: str, command: list[str], env: dict) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.started.append((name, process, log))
        return process

    def check_alive(self) -> None:
        for name, process, _log in self.started:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited ({process.returncode}): see {self.log_dir / (name + '.log')}")

    def stop(self) -> None:
        for _name, process, _log in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _name, process, log in self.started:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
            log.close()


def _wait(condition, timeout: float, every: float = 1.0, *, alive=None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive:
            alive()
        if condition():
            return True
        time.sleep(every)
    return False


def _serve_shop(n: int, customers: int, queue) -> None:  # a child process: the shop must not share our GIL
    import django
    from ingest import _orders  # the ingest benchmark's generated shop

    django.setup()
    from integrations.shopify.fake import FakeShop

    shop = FakeShop(_orders(n, customers), bucket_size=10_000)
    queue.put(shop.url)
    while True:
        time.sleep(3600)


def main() -> int:  # noqa: PLR0915 - one drill, read top to bottom
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="500 deliveries, a 2,000-order backfill")
    parser.add_argument("--deliveries", type=int, default=None)
    parser.add_argument("--backfill-orders", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=1200, help="seconds to wait for the work to finish")
    args = parser.parse_args()
    total = args.deliveries or (500 if args.quick else 5000)
    backfill_orders = args.backfill_orders or (2_000 if args.quick else 20_000)
    storm_db = os.environ.get("BENCH_STORM_DATABASE_URL", _common.BENCH_DB + "_storm")
    os.environ["BENCH_DATABASE_URL"] = _common.BENCH_DB = storm_db
    var_dir = Path(tempfile.mkdtemp(prefix="storm-var-"))
    os.environ["VAR_DIR"] = str(var_dir)
    _common.setup()
    from django.db import connection

    from conversations.models import Draft, Message
    from customers.models import Order
    from integrations.models import ShopifyCursor
    from omnichannel.celery import ALL_QUEUES, app
    from omnichannel.models import AuditLog, WebhookDelivery

    app.conf.task_always_eager = False  # this process only sends: the workers run everything

    log_dir = Path(tempfile.mkdtemp(prefix="storm-logs-"))
    processes = Processes(log_dir)
    context = multiprocessing.get_context("fork")
    shop_queue = context.Queue()
    shop = context.Process(target=_serve_shop, args=(backfill_orders, max(1, backfill_orders // 5), shop_queue),
                           daemon=True)
    shop.start()
    try:
        shop_url = shop_queue.get(timeout=120)
        # The blob store: moto's S3 server, one bucket.
        s3_port = _free_port()
        processes.start("moto_server", [shutil.which("moto_server", path=str(Path(sys.executable).parent))
                                        or "moto_server", "-H", "127.0.0.1", "-p", str(s3_port)], dict(os.environ))
        endpoint = f"http://127.0.0.1:{s3_port}"
        assert _wait(lambda: _answers(f"{endpoint}/moto-api/"), 30, 0.2, alive=processes.check_alive)
        import boto3

        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="storm",
                          aws_secret_access_key="storm")
        s3.create_bucket(Bucket="storm-blobs")
        env = {**os.environ, "DATABASE_URL": storm_db, "SYNC_USE_CELERY": "1", "LOG_LEVEL": "WARNING",
               "CHROMA_ALLOW_EMBEDDED_MULTIPROCESS": "1",
               "VAR_DIR": str(var_dir), "BLOB_BUCKET": "storm-blobs", "BLOB_ENDPOINT_URL": endpoint,
               "BLOB_ACCESS_KEY_ID": "storm", "BLOB_SECRET_ACCESS_KEY": "storm",
               "SHOPIFY_WEBHOOK_SECRET": SECRET, "ZOHO_WEBHOOK_SECRET": SECRET, "SHOPIFY_BASE_URL": shop_url,
               "SHOPIFY_PACE_SECONDS": "0", "ZOHO_MODE": "fake", "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost"}
        with app.connection_for_write() as conn:
            for queue in ALL_QUEUES:
                conn.default_channel.queue_purge(queue)
        web_port = _free_port()
        processes.start("gunicorn", [sys.executable, "-m", "gunicorn", "omnichannel.wsgi", "--config",
                                     "deploy/gunicorn.conf.py", "--access-logfile", "/dev/null"],
                        {**env, "GUNICORN_BIND": f"127.0.0.1:{web_port}", "GUNICORN_WORKERS": "2"})
        names = []
        for queues, concurrency in QUEUE_WORKERS.items():
            name = f"storm-{queues.replace(',', '-')}-{os.getpid()}@{socket.gethostname()}"
            names.append(name)
            processes.start(f"worker-{queues.split(',')[0]}", [
                sys.executable, "-m", "celery", "-A", "omnichannel", "worker", "--loglevel=WARNING",
                f"--queues={queues}", f"--concurrency={concurrency}", "-n", name, "--without-gossip",
                "--without-mingle"], env)
        assert _wait(lambda: _answers(f"http://127.0.0.1:{web_port}/healthz"), 60, 0.2, alive=processes.check_alive)
        assert _wait(lambda: len(app.control.ping(destination=names, timeout=1.0)) == len(names), 120,
                     alive=processes.check_alive), "the workers did not answer"

        # The customers the backfill's orders belong to, then the backfill itself on the long worker.
        app.send_task(TaskName.SHOPIFY_BACKFILL, kwargs={"resource": "customers", "full": True})
        assert _wait(lambda: ShopifyCursor.objects.filter(resource="customers", last_run_status="ok").exists(), 300,
                     alive=processes.check_alive), "the customers' backfill did not finish"
        requests, expected = storm_plan(total, random.Random(18))
        built = [http_request("POST", path, f"127.0.0.1:{web_port}", body, headers) for path, body, headers in requests]
        backfill_started = time.monotonic()
        app.send_task(TaskName.SHOPIFY_BACKFILL, kwargs={"resource": "orders", "full": True})
        app.send_task(TaskName.BACKUP_DB)  # the nightly pg_dump into the bucket, on the long worker's other slot
        spawn = multiprocessing.get_context("spawn")
        load_queue = spawn.Queue()
        sender = spawn.Process(
            target=load, args=("127.0.0.1", web_port, built, 16, None, load_queue))
        storm_started = time.monotonic()
        sender.start()
        sent = load_queue.get(timeout=900)
        sender.join(10)
        storm_seconds = time.monotonic() - storm_started

        marks: dict[str, float] = {}

        def settled() -> bool:
            backfilled = ShopifyCursor.objects.filter(resource="orders", last_run_status="ok").exists()
            backed_up = AuditLog.objects.filter(event_type="backup.created").exists()
            if backfilled:
                marks.setdefault("backfill", time.monotonic() - backfill_started)
            open_deliveries = WebhookDelivery.objects.exclude(status__in=["processed", "failed"]).exists()
            drafted = Draft.objects.filter(reply_to__direction="inbound").values("reply_to").distinct().count()
            return not open_deliveries and drafted >= expected["mails"] and backfilled and backed_up

        finished = _wait(settled, args.timeout, 2.0, alive=processes.check_alive)
        done_seconds = time.monotonic() - storm_started

        # --- Counts --------------------------------------------------------------------------------
        deliveries = WebhookDelivery.objects.filter(source__in=["zoho", "shopify"])
        by_status = dict(deliveries.values_list("status").annotate(n=_count()).values_list("status", "n"))
        attempts = dict(deliveries.values_list("attempts").annotate(n=_count()).values_list("attempts", "n"))
        storm_orders = Order.objects.filter(shopify_id__in=[str(k) for k in expected["newest"]])
        wrong_version = sum(1 for shopify_id, cents in storm_orders.values_list("shopify_id", "total_price_cents")
                            if cents != expected["newest"][int(shopify_id)] * 100)
        inbound = Message.objects.filter(direction="inbound")
        drafts_per_message = list(inbound.annotate(n=_count("drafts")).values_list("n", flat=True))
        waits = _draft_waits(connection)
        counts = [
            ("deliveries sent (30% re-sends)", total, ""),
            ("answered 200", sent["statuses"].get(200, 0), total),
            ("stored deliveries (one per distinct delivery)", deliveries.count(), expected["distinct"]),
            ("processed", by_status.get("processed", 0), expected["distinct"]),
            ("failed", by_status.get("failed", 0), 0),
            ("processed more than once (attempts > 1)", sum(n for a, n in attempts.items() if a > 1), 0),
            ("storm orders (distinct ids)", storm_orders.count(), expected["orders"]),
            ("storm orders not at their newest version", wrong_version, 0),
            ("backfilled orders", Order.objects.exclude(shopify_id__in=[str(k) for k in expected["newest"]]).count(),
             backfill_orders),
            ("inbound emails", inbound.count(), expected["mails"]),
            ("emails with exactly one draft", sum(1 for n in drafts_per_message if n == 1), expected["mails"]),
            ("emails with more than one draft", sum(1 for n in drafts_per_message if n > 1), 0),
            ("database backups in the S3 bucket (backup_db during the storm)",
             s3.list_objects_v2(Bucket="storm-blobs", Prefix="backups/").get("KeyCount", 0), 1),
            ("files under VAR_DIR outside the Chroma index",
             sum(1 for p in var_dir.rglob("*") if p.is_file() and "chroma" not in p.relative_to(var_dir).parts), 0),
        ]
    finally:
        processes.stop()
        shop.terminate()
        from omnichannel.celery import ALL_QUEUES, app

        with app.connection_for_write() as conn:
            for queue in ALL_QUEUES:
                conn.default_channel.queue_purge(queue)
    table(f"Scale-out drill: {total:,} webhook deliveries while a {backfill_orders:,}-order backfill runs "
          f"(gunicorn 2 workers x {os.environ.get('GUNICORN_THREADS', '4')} threads; "
          f"workers {', '.join(f'{q}x{c}' for q, c in QUEUE_WORKERS.items())}; S3: moto)",
          [(what, f"{got:,}", "" if want == "" else f"{want:,}", "" if want == "" else ("yes" if got == want else "NO"))
           for what, got, want in counts], ("count", "got", "expected", "ok"))
    table("Times", [
        ("storm sent (closed loop, 16 senders)", f"{storm_seconds:.1f} s", f"{total / storm_seconds:,.0f} req/s"),
        ("everything settled (deliveries, drafts, backfill, backup)", f"{done_seconds:.1f} s",
         "" if finished else "TIMED OUT"),
        ("webhook stored -> pending draft, p50", f"{_pct(waits, 50):.1f} s", f"{len(waits)} drafts"),
        ("webhook stored -> pending draft, p95", f"{_pct(waits, 95):.1f} s", ""),
        ("backfill of the orders, queued -> done (polled every 2 s)",
         f"{marks['backfill']:.1f} s" if "backfill" in marks else "not done", f"{backfill_orders:,} orders"),
    ], ("what", "value", ""))
    print(f"\nlogs: {log_dir}")
    figure("storm: webhook -> pending draft p95", _pct(waits, 95), unit="s", better="lower")
    figure("storm: webhook -> pending draft p50", _pct(waits, 50), unit="s", better="lower")
    figure("storm: settled after", done_seconds, unit="s", better="lower")
    wrong = [what for what, got, want in counts if want != "" and got != want]
    if wrong or not finished:
        print(f"\nWRONG: {', '.join(wrong) or 'timed out'}")
        return 1
    return 0


def _count(field: str = "id"):
    from django.db.models import Count

    return Count(field)


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).close()  # noqa: S310 - our own local server
        return True
    except OSError:
        return False


def _draft_waits(connection) -> list[float]:
    """Seconds from each email's webhook being stored to its draft being written (both database clocks)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXTRACT(EPOCH FROM min(d.created_at) - w.received_at) FROM drafts d "
                       "JOIN messages m ON m.id = d.reply_to_id JOIN webhook_deliveries w ON w.source = 'zoho' "
                       "AND w.external_id = m.external_msg_id GROUP BY m.id, w.received_at")
        return sorted(float(row[0]) for row in cursor.fetchall())


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


if __name__ == "__main__":
    sys.exit(main())
