"""The production web process for tests that need a real one: gunicorn with deploy/gunicorn.conf.py on a
free port, started with the given environment, its output in a log file the failure message shows."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]  # the repository


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn_process(env: dict, log_path: Path, *args: str, timeout: float = 60) -> Iterator[str]:
    """Yields the server's base URL once `/healthz` answers (the first request loads Django in the worker)."""
    port = free_port()
    with open(log_path, "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "omnichannel.wsgi", "--config",
                                   "deploy/gunicorn.conf.py", "-b", f"127.0.0.1:{port}", *args],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                requests.get(f"{base}/healthz", timeout=5)
                break
            except requests.RequestException:
                assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(15)
