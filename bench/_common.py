"""Shared set-up for the benchmarks: Django on a dedicated Postgres database, timing helpers.

Benchmarks report ratios against a baseline measured in the same run (this machine is shared
and noisy), never absolute pass/fail. BENCH_DATABASE_URL (default: a local `omnichannel_bench`
database, created if missing) keeps them away from development data.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/omnichannel_bench")


def bench_sizes(*, quick: tuple, full: tuple) -> tuple:
    """The sizes a benchmark runs at: `quick` with --quick (make bench-quick, the smoke test), else `full`."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    return quick if parser.parse_args().quick else full


def setup(*, fresh: bool = True) -> None:
    """Point Django at the bench database (recreated when `fresh`) and migrate it."""
    import psycopg

    name = BENCH_DB.rsplit("/", 1)[1]
    admin_url = BENCH_DB.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = BENCH_DB
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
    os.environ["SYNC_USE_CELERY"] = "0"
    os.environ.setdefault("VAR_DIR", str(ROOT / "var" / "bench"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnichannel.settings")
    os.environ["LOG_LEVEL"] = "ERROR"
    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(fn, repeat: int) -> list[float]:
    """Milliseconds per call."""
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def table(title: str, rows: list[tuple], headers: tuple) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    print(f"\n{title}")
    print("  ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))


def summary(values: list[float]) -> tuple[str, str, str]:
    return f"{statistics.median(values):.2f}", f"{pct(values, 95):.2f}", f"{pct(values, 99):.2f}"


def figure(name: str, value: float, *, unit: str = "", target: str = "", better: str = "") -> None:
    """One figure for `make bench`'s summary (bench/run_all.py collects these lines over its runs and
    prints each figure's median and range). `target` is a comparison such as ">= 0.7" or "< 50", judged
    on the median; `better` ("higher"/"lower") only labels figures that have no target."""
    print("FIGURE " + json.dumps({"name": name, "value": round(float(value), 4), "unit": unit, "target": target,
                                  "better": better}), flush=True)
