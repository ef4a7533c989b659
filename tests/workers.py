"""A real Celery worker process, started by the test, on the test database and the real Redis broker: the
`celery_worker_process` fixture (registered for the whole suite by `pytest_plugins` in tests/conftest.py) and
`wait_for`, a condition polled until a deadline."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from omnichannel.celery import ALL_QUEUES, app

ROOT = Path(__file__).resolve().parents[1]  # the repository


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    def __init__(self, env: dict, log_path: Path, *, queues: tuple[str, ...] = ALL_QUEUES, concurrency: int = 2):
        self.log_path = log_path
        self.name = f"test-{'-'.join(queues)}-{time.monotonic_ns()}@{socket.gethostname()}"
        with open(log_path, "ab") as log:  # the worker's own output, for the failure message
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "omnichannel", "worker", "--loglevel=WARNING",
                 f"--concurrency={concurrency}", f"--queues={','.join(queues)}", "--without-gossip",
                 "--without-mingle", "--without-heartbeat", "-n", self.name],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 90.0) -> bool:
        """True once the worker answers a broadcast ping (it then consumes its queues)."""
        return wait_for(lambda: bool(app.control.ping(destination=[self.name], timeout=1.0)), timeout=timeout, every=0.5)

    def log_tail(self, chars: int = 3000) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text[-chars:]

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)  # no warm shutdown: the tasks in flight are lost
            self.process.wait(10)


@pytest.fixture
def celery_worker_process(tmp_path):
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("a real worker needs the Postgres test database and the Redis broker")
    app.conf.task_always_eager = False
    env = {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": settings.REDIS_URL, "SYNC_USE_CELERY": "1",
           "CELERY_VISIBILITY_TIMEOUT": "90",
           # The visibility timeout must outlast every task's hard limit (settings refuse it otherwise).
           # Limits well below production's (300 s soft), yet not tight: a fresh worker's first generate_draft
           # (imports, the embedded Chroma, the embedding model) on a 2-core CI machine shared with other runs
           # took over 20 s and hit the soft limit, failing tests that test something else. A test that needs a
           # quick redelivery sets its own shorter timeout (tests/assistants/test_draft_redelivery.py).
           "CELERY_TASK_TIME_LIMIT": "75", "CELERY_TASK_SOFT_TIME_LIMIT": "60", "CELERY_LONG_TASK_TIME_LIMIT": "75",
           "ZOHO_MODE": "fake", "LOG_LEVEL": "WARNING",
           # The worker shares the test's embedded Chroma directory: refused in production (settings), fine here.
           "CHROMA_ALLOW_EMBEDDED_MULTIPROCESS": "1",
           "VAR_DIR": str(settings.VAR_DIR), "BLOB_ROOT": str(settings.BLOB_ROOT), "CHROMA_PATH": settings.CHROMA_PATH}
    with app.connection_for_write() as conn:  # leftovers of an earlier run must not leak into this one
        for queue in ALL_QUEUES:
            conn.default_channel.queue_purge(queue)
    workers: list[Worker] = []

    def start(*, queues: tuple[str, ...] = ALL_QUEUES, concurrency: int = 2, **extra_env) -> Worker:
        """A worker consuming `queues` (all of them by default, as `make worker`)."""
        worker = Worker({**env, **extra_env}, tmp_path / f"worker-{len(workers)}.log", queues=queues,
                        concurrency=concurrency)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.kill()
    app.conf.task_always_eager = True


def wait_for(condition, timeout: float = 90.0, every: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False
