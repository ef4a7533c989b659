"""Run every benchmark, one after the other, each printing its own table, then one summary of the
figures each compares with its target (the lines that name a target).

    python bench/run_all.py [--quick]     (make bench / make bench-quick)
"""

import subprocess
import sys
from pathlib import Path

BENCHES = ["drafts.py", "ingest.py", "customer_summary.py", "admin_queue.py", "api_drafts.py", "webhooks.py",
           "faq_proposals.py"]


def main() -> int:
    quick = ["--quick"] if "--quick" in sys.argv else []
    here = Path(__file__).parent
    failed, summary = [], []
    for name in BENCHES:
        print(f"\n===== {name} {' '.join(quick)}", flush=True)
        run = subprocess.run([sys.executable, str(here / name), *quick], capture_output=True, text=True)
        sys.stdout.write(run.stdout)
        sys.stderr.write(run.stderr[-4000:] if run.returncode else "")
        if run.returncode != 0:
            failed.append(name)
        summary += [f"{name:22} {line.strip()}" for line in run.stdout.splitlines() if "target" in line]
    print("\n===== summary: each figure against its target (ratios from the same run)")
    print("\n".join(summary) or "(no figures)")
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
