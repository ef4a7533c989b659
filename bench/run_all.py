"""Run every benchmark, one after the other, each printing its own table.

    python bench/run_all.py [--quick]     (make bench / make bench-quick)
"""

import subprocess
import sys
from pathlib import Path

BENCHES = ["drafts.py", "ingest.py", "customer_summary.py", "admin_queue.py", "webhooks.py"]


def main() -> int:
    quick = ["--quick"] if "--quick" in sys.argv else []
    here = Path(__file__).parent
    failed = []
    for name in BENCHES:
        if not (here / name).exists():
            continue
        print(f"\n===== {name} {' '.join(quick)}", flush=True)
        if subprocess.call([sys.executable, str(here / name), *quick]) != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
