"""Every benchmark still runs: `bench/run_all.py --quick` at smoke sizes, on its own database.

Nothing here is timed: the figures are the benchmarks' business (README, "Benchmarks"). This only
keeps the scripts from rotting while the code under them changes: each exits 0, prints the lines
that compare a figure with its target, and the webhook intake answered every request 200.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _failed_sections(stdout: str) -> str:
    """The output (with its stderr tail) of each benchmark that failed, not just the summary's last lines."""
    failed = re.findall(r"^failed: (.*)$", stdout, re.MULTILINE)
    names = [item.split(" (", 1)[0] for item in ", ".join(failed).split(", ") if item]
    sections = [section for section in stdout.split("\n===== ") if section.split(" ", 1)[0] in names]
    return "\n".join(f"===== {section[-4000:]}" for section in sections) or stdout[-3000:]


@pytest.mark.skipif(os.environ.get("SKIP_BENCH_SMOKE") == "1", reason="SKIP_BENCH_SMOKE=1")
def test_every_benchmark_runs_at_smoke_size_and_prints_its_targets(settings):
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("the benchmarks run on Postgres and Redis")
    database = connection.settings_dict
    # Databases named after the test database, so two checkouts running the suite at once never share one.
    server = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}"
    env = {**os.environ, "BENCH_DATABASE_URL": f"{server}/{database['NAME']}_bench_smoke",
           "BENCH_API_DATABASE_URL": f"{server}/{database['NAME']}_bench_api_smoke",
           "REDIS_URL": re.sub(r"/\d+$", "/13", settings.REDIS_URL),
           "VAR_DIR": str(ROOT / "var" / f"bench-smoke-{database['NAME']}")}
    env.pop("DATABASE_URL", None)
    run = subprocess.run([sys.executable, "bench/run_all.py", "--quick"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, _failed_sections(run.stdout) + run.stderr[-3000:]
    summary = run.stdout.split("===== summary", 1)[1]
    for bench in ("drafts.py", "ingest.py", "customer_summary.py", "admin_queue.py", "api_drafts.py", "webhooks.py"):
        assert re.search(rf"^{re.escape(bench)}\s+\S", summary, re.MULTILINE), (bench, summary)
    intake = run.stdout.split("===== webhooks.py", 1)[1]
    statuses = re.findall(r'"(\d{3})": \d+', intake)
    assert statuses and set(statuses) == {"200"}, intake


@pytest.mark.skipif(os.environ.get("SKIP_BENCH_SMOKE") == "1", reason="SKIP_BENCH_SMOKE=1")
def test_the_scale_out_drill_runs_at_smoke_size_and_every_count_is_right(settings):
    """bench/storm.py --quick: gunicorn, a worker per queue, moto's S3 server; 500 deliveries (30% re-sends,
    out of order) while a backfill and a backup run. It exits 1 when any count is wrong (a lost or doubled
    row, a delivery processed twice, an email without exactly one draft, a file under VAR_DIR)."""
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("the drill runs on Postgres and Redis")
    database = connection.settings_dict
    server = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}"
    # The drill purges its Redis database's queues: this checkout's own, never a shared one.
    env = {**os.environ, "BENCH_STORM_DATABASE_URL": f"{server}/{database['NAME']}_storm_smoke",
           "BENCH_DATABASE_URL": f"{server}/{database['NAME']}_bench_smoke", "REDIS_URL": settings.REDIS_URL}
    env.pop("DATABASE_URL", None)
    env.pop("VAR_DIR", None)
    run = subprocess.run([sys.executable, "bench/storm.py", "--quick"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-3000:]
    assert "emails with exactly one draft" in run.stdout
