"""Run every benchmark several times and summarize each figure as its median and range.

    python bench/run_all.py [--runs 3] [--only ingest.py,webhooks.py] [--quick]   (make bench / make bench-quick)

The runs are interleaved (run 1 of every benchmark, then run 2, ...), so a noisy minute of this shared
machine hits each benchmark once rather than one benchmark three times. Each benchmark prints its own
tables and its figures as `FIGURE {json}` lines (bench/_common.py `figure`); the summary gives, for every
figure, the median of the runs, the range (lowest-highest), the target and whether the median meets it.
"""

from __future__ import annotations

import argparse
import json
import operator
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCHES = ["drafts.py", "ingest.py", "customer_summary.py", "admin_queue.py", "api_drafts.py", "webhooks.py",
           "faq_proposals.py"]
_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}


def meets(value: float, target: str) -> bool | None:
    if not target:
        return None
    op, threshold = target.split()
    return _OPS[op](value, float(threshold))


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def _machine() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")), "") if cpuinfo.exists() else platform.processor()
    return f"{platform.node()}, {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smoke sizes, one run (make bench-quick)")
    parser.add_argument("--runs", type=int, default=None, help="runs of each benchmark (default 3; 1 with --quick)")
    parser.add_argument("--only", default="", help="comma-separated benchmark files")
    args = parser.parse_args()
    runs = args.runs or (1 if args.quick else 3)
    benches = [b for b in BENCHES if not args.only or b in args.only.split(",")]
    quick = ["--quick"] if args.quick else []
    here = Path(__file__).parent
    failed: list[str] = []
    figures: dict[tuple[str, str], dict] = {}
    started = time.monotonic()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {_machine()}; {runs} run(s) of each, interleaved", flush=True)
    for run_no in range(1, runs + 1):
        for name in benches:
            print(f"\n===== {name} {' '.join(quick)} (run {run_no} of {runs})", flush=True)
            run = subprocess.run([sys.executable, str(here / name), *quick], capture_output=True, text=True)
            sys.stdout.write("\n".join(line for line in run.stdout.splitlines() if not line.startswith("FIGURE ")) + "\n")
            if run.returncode != 0:
                sys.stdout.write(run.stderr[-4000:])
                failed.append(f"{name} (run {run_no})")
            for line in run.stdout.splitlines():
                if line.startswith("FIGURE "):
                    item = json.loads(line[len("FIGURE "):])
                    entry = figures.setdefault((name, item["name"]), {**item, "values": []})
                    entry["values"].append(item["value"])
            sys.stdout.flush()
    print(f"\n===== summary: median and range (lowest-highest) of {runs} run(s), "
          f"{(time.monotonic() - started) / 60:.0f} minutes in all")
    rows = []
    for (bench, _), item in figures.items():
        values = item["values"]
        median = statistics.median(values)
        met = meets(median, item["target"])
        target = item["target"] or (f"({item['better']} is better)" if item["better"] else "-")
        rows.append((bench, item["name"].split(": ", 1)[-1], f"{_fmt(median)} {item['unit']}".strip(),
                     f"{_fmt(min(values))}-{_fmt(max(values))}", target, {True: "yes", False: "NO", None: ""}[met],
                     str(len(values))))
    headers = ("bench", "figure", "median", "range", "target", "met", "runs")
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    for row in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
