"""Signed webhook intake under load: the app on gunicorn (deploy/gunicorn.conf.py), load from a separate process.

    python bench/webhooks.py [--quick] [--rounds N]

For Shopify and Zoho deliveries (each unique, signed) and for a bare view (`/healthz`, the
baseline) in the same run, interleaved in rounds: (1) open loop paced at 200 requests/second,
latency counted from when each request was due, beside the commit floor (one raw durable INSERT
per request, what the disk alone costs); (2) closed loop, 16 concurrent senders: throughput,
latency and the CPU each request costs in gunicorn, Postgres, Redis and the load generator.
Targets: p99 under 50 ms at 200 req/s; throughput at least 0.6 x the bare view's. Intake stores
the raw body and wakes the drain (integrations/intake.py); no worker runs during the benchmark
(the queue is purged afterwards). The load generator is bench/_http_load.py (asyncio, requests
signed before the clock starts), light enough not to take the cores it measures.

Each round runs the kinds in a rotated order (bare, shopify, zoho; then shopify, zoho, bare; ...), so no
kind always follows the same one. Before each closed-loop run, 100 raw durable INSERTs back to back give
the disk's commit time at that minute ("commit ms"), and the run's table shows it beside the checkpoints
Postgres began and the autovacuums of `webhook_deliveries` during the run: a run whose ratio falls can be
told apart as the disk's minute (commit ms up) or our own writes' aftermath.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import multiprocessing
import os
import runpy
import socket
import statistics
import subprocess
import sys
import time

from _common import BENCH_DB, ROOT, figure, setup, summary, table
from _http_load import http_request, load

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


def _cpu_ms(pids: list[int]) -> dict[int, float]:
    """User + system CPU of each of these processes so far, in ms (from /proc: no dependency for this)."""
    used = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):  # exited between the listing and the read
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")  # utime, stime
    return used


def _cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    # A process born since counts whole; one that exited since is lost (an autovacuum worker, say).
    return sum(ms - before.get(pid, 0.0) for pid, ms in after.items())


def _processes(name: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/comm") as comm:
                if comm.read().strip() == name:
                    pids.append(int(entry))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
    return pids


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        return [int(child) for child in children.read().split()]


def run(port: int, kind: str, count: int, concurrency: int, rate: float | None = None) -> dict:
    requests = []
    for n in range(count):
        path, body, headers = _request(kind, n)
        requests.append(http_request("POST" if body else "GET", path, f"127.0.0.1:{port}", body, headers))
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=load, args=("127.0.0.1", port, requests, concurrency, rate, queue))
    process.start()
    try:
        return queue.get(timeout=600)  # every request is bounded too (bench/_http_load.py)
    finally:
        process.join(5)
        if process.is_alive():
            process.terminate()


KINDS = ("bare", "shopify", "zoho")
SERVER = {"GUNICORN_WORKERS": "2"}  # the threads per worker are the config's (GUNICORN_THREADS to override)


def _server_shape() -> str:
    conf = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    return f"{conf['workers']} {conf.get('worker_class', 'sync')} workers x {conf.get('threads', 1)} threads"


def _gunicorn(port: int) -> subprocess.Popen:
    """The production web config (deploy/gunicorn.conf.py, 2 workers), access log off as in the others."""
    env = {**os.environ, "DATABASE_URL": BENCH_DB, "SYNC_USE_CELERY": "1", "SHOPIFY_WEBHOOK_SECRET": SECRET,
           "ZOHO_WEBHOOK_SECRET": SECRET, "LOG_LEVEL": "ERROR", "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
           "CHROMA_ALLOW_EMBEDDED_MULTIPROCESS": "1",  # intake only: nothing here opens Chroma
           "GUNICORN_BIND": f"127.0.0.1:{port}", **SERVER}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "omnichannel.wsgi", "--config", "deploy/gunicorn.conf.py",
                               "--access-logfile", "/dev/null", "--log-level", "error"], cwd=ROOT, env=env)
    deadline = time.monotonic() + 60  # a loaded machine (the suite's smoke run beside other jobs) starts slowly
    while time.monotonic() < deadline:
        if server.poll() is not None:  # exited: the port was taken in between, or the app failed to load
            raise RuntimeError(f"gunicorn exited with status {server.returncode} before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError(f"gunicorn did not listen on {port} within 60 s")


def _started_gunicorn() -> tuple[subprocess.Popen, int]:
    """A free port can be taken by another process before gunicorn binds it: try a fresh one."""
    for attempt in range(3):
        port = _free_port()
        try:
            return _gunicorn(port), port
        except RuntimeError as error:
            print(f"gunicorn start {attempt + 1} of 3 failed: {error}", file=sys.stderr, flush=True)
    raise RuntimeError("gunicorn did not start in 3 tries (its errors are above)")


def _commit_floor(count: int, rate: float) -> list[float]:
    """The disk's share of intake latency: one durable INSERT per request, raw psycopg, paced like the
    open loop. This VM's fsync stalls now and then for a few hundred ms; every durable commit waits."""
    import psycopg

    latencies = []
    with psycopg.connect(BENCH_DB, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_commit_floor (id bigserial PRIMARY KEY, body bytea)")
        start = time.perf_counter()
        for n in range(count):
            due = start + n / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            conn.execute("INSERT INTO bench_commit_floor (body) VALUES (%s)", [b"x" * 300])
            latencies.append((time.perf_counter() - due) * 1000)
    return latencies


def _commit_ms(count: int = 100) -> float:
    """Median ms of one raw durable INSERT, back to back on one connection: the disk's commit time now."""
    import psycopg

    took = []
    with psycopg.connect(BENCH_DB, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_commit_floor (id bigserial PRIMARY KEY, body bytea)")
        for _ in range(count):
            began = time.perf_counter()
            conn.execute("INSERT INTO bench_commit_floor (body) VALUES (%s)", [b"x" * 300])
            took.append((time.perf_counter() - began) * 1000)
    return statistics.median(took)


def _postgres_counters(conn) -> tuple[int, int]:
    """Checkpoints begun in the cluster so far, and autovacuums + autoanalyzes of webhook_deliveries."""
    checkpoints = conn.execute("SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter").fetchone()[0]
    vacuums = conn.execute("SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0) FROM pg_stat_user_tables "
                           "WHERE relname = 'webhook_deliveries'").fetchone()[0]
    return checkpoints, vacuums


def _bench_backends(conn) -> list[int]:
    """This bench's Postgres processes: the backends of its database (not other jobs' on the same server)
    and the WAL writer. Listed again at each reading: a backend is forked per new connection."""
    return [pid for (pid,) in conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE (datname = current_database() AND pid <> pg_backend_pid()) "
        "OR backend_type = 'walwriter'").fetchall()]


def _in_turn(round_number: int) -> tuple[str, ...]:
    shift = round_number % len(KINDS)
    return KINDS[shift:] + KINDS[:shift]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per kind, interleaved")
    args = parser.parse_args()
    count = 400 if args.quick else 2000
    rounds = 1 if args.quick else args.rounds
    paced_count = min(count, 1000)
    setup()
    import psycopg

    stats = psycopg.connect(BENCH_DB, autocommit=True)
    server, port = _started_gunicorn()
    groups = {"gunicorn": lambda: [server.pid, *_children(server.pid)], "postgres": lambda: _bench_backends(stats),
              "redis": lambda: _processes("redis-server")}
    runs = []  # (round, kind, req/s, commit ms before, checkpoints begun, autovacuums) of each closed-loop run
    closed = {kind: [] for kind in KINDS}
    paced = {kind: [] for kind in (*KINDS, "commit floor")}
    cpu = {kind: {name: 0.0 for name in (*groups, "load generator")} for kind in KINDS}
    try:
        # Before the clock runs: every worker connected to Postgres, every view imported, and enough
        # one-second wake-up windows that both workers have opened their broker connection.
        for kind in KINDS:
            run(port, kind, 400, 4, rate=100)
        # Paced rounds first: after a saturating round, autovacuum and the checkpoint of the rows it wrote
        # stall every durable commit for a while, and that is what a paced round would then measure.
        for number in range(rounds):  # interleaved, so a noisy minute of this shared machine hits every kind alike
            for kind in _in_turn(number):
                paced[kind].append(run(port, kind, paced_count, 32, rate=200)["latencies"])
            paced["commit floor"].append(_commit_floor(paced_count, 200))
        for number in range(rounds):
            for kind in _in_turn(number):
                commit_ms = _commit_ms()
                counters = _postgres_counters(stats)
                before = {name: _cpu_ms(pids()) for name, pids in groups.items()}
                result = run(port, kind, count, 16)
                for name, pids in groups.items():
                    cpu[kind][name] += _cpu_delta(before[name], _cpu_ms(pids())) / (count * rounds)
                cpu[kind]["load generator"] += result["cpu_seconds"] * 1000 / (count * rounds)
                closed[kind].append(result)
                began = [after - then for after, then in zip(_postgres_counters(stats), counters, strict=True)]
                runs.append((number + 1, kind, count / result["seconds"], commit_ms, *began))
    finally:
        server.terminate()
        server.wait(10)
        stats.close()
        from omnichannel.celery import ALL_QUEUES, app

        with app.connection_for_write() as conn:  # the drains woken during the run (no worker consumed them)
            for queue in ALL_QUEUES:
                conn.default_channel.queue_purge(queue)
    _report(closed, paced, cpu, count=count, rounds=rounds)
    _report_runs(runs)


def _report_runs(runs: list[tuple]) -> None:
    bare = {number: rate for number, kind, rate, *_ in runs if kind == "bare"}
    table("Each closed-loop run, in the order run (commit ms: median raw durable INSERT just before it; "
          "checkpoints begun and autovacuums of webhook_deliveries during it)",
          [(number, kind, f"{rate:,.0f}", f"{rate / bare[number]:.2f}", f"{commit_ms:.1f}", checkpoints, vacuums)
           for number, kind, rate, commit_ms, checkpoints, vacuums in runs],
          ("round", "kind", "req/s", "/ bare", "commit ms", "checkpoints", "autovacuums"))


def _report(closed: dict, paced: dict, cpu: dict, *, count: int, rounds: int) -> None:
    def rate(result: dict) -> float:
        return count / result["seconds"]

    def p99s(kind: str) -> list[float]:  # in the order the rounds ran
        return [float(summary(latencies)[2]) for latencies in paced[kind]]

    rows = []
    for kind in KINDS:
        statuses = {}
        for result in closed[kind]:
            for status, n in result["statuses"].items():
                statuses[status] = statuses.get(status, 0) + n
        rows.append((kind, f"{statistics.median(rate(r) for r in closed[kind]):,.0f}",
                     *summary([ms for result in closed[kind] for ms in result["latencies"]]), json.dumps(statuses)))
    table(f"Webhook intake on gunicorn ({_server_shape()}), closed loop, 16 senders, {rounds} x {count} requests each "
          "(req/s: median round)", rows, ("kind", "req/s", "p50 ms", "p95 ms", "p99 ms", "statuses"))
    table("CPU per request in the closed loop, ms (2 cores in all; postgres: the bench database's backends and the "
          "WAL writer)",
          [(kind, *(f"{ms:.2f}" for ms in cpu[kind].values())) for kind in KINDS], ("kind", *cpu["bare"]))
    table(f"Open loop paced at 200 req/s, {rounds} x {len(paced['bare'][0])} requests (latency from when each "
          "was due; commit floor: one raw durable INSERT each)",
          [(kind, *summary([ms for run in paced[kind] for ms in run]), " / ".join(f"{p:.1f}" for p in p99s(kind)))
           for kind in paced], ("kind", "p50 ms", "p95 ms", "p99 ms", "p99 of each round, in order"))
    for kind in KINDS[1:]:
        ratios = sorted(rate(hook) / rate(bare) for hook, bare in zip(closed[kind], closed["bare"], strict=True))
        print(f"{kind}: throughput / bare = {statistics.median(ratios):.2f} (median of {rounds} rounds, "
              f"range {ratios[0]:.2f}-{ratios[-1]:.2f}; target >= 0.6)")
        print(f"{kind}: p99 at 200 req/s = {statistics.median(p99s(kind)):.1f} ms, median round (target < 50 ms; "
              f"commit floor's {statistics.median(p99s('commit floor')):.1f} ms)")
        figure(f"webhooks: {kind} throughput / bare view", statistics.median(ratios), target=">= 0.6")
        figure(f"webhooks: {kind} req/s", statistics.median(rate(r) for r in closed[kind]), unit="req/s",
               better="higher")
        figure(f"webhooks: {kind} p99 at 200 req/s", statistics.median(p99s(kind)), unit="ms", target="< 50")
    figure("webhooks: bare view req/s", statistics.median(rate(r) for r in closed["bare"]), unit="req/s",
           better="higher")
    figure("webhooks: commit floor p99 at 200 req/s", statistics.median(p99s("commit floor")), unit="ms",
           better="lower")


if __name__ == "__main__":
    main()
