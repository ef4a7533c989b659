"""What a Celery worker or beat process checks and sets up before it starts work.

`worker_process_prepare` is called by omnichannel/celery.py when the `celery` command imports
the app (`celery -A omnichannel worker` / `beat`): before Django's apps, prometheus_client or any
task module is imported, and before beat opens its schedule.

- A worker or beat without a real broker refuses to start, naming the variables: on Celery's
  in-memory transport every task would stay inside that one process, and nothing the web queues
  would ever reach it.
- A worker that serves its own metrics (CELERY_WORKER_METRICS_PORT) gets a multiprocess
  directory of its own: a fresh directory, inside PROMETHEUS_MULTIPROC_DIR when that is set. Its
  tasks run in the pool's child processes, whose counters reach the endpoint (served by the main
  process) only through such files; and a directory of its own means its endpoint serves only its
  processes' counters, never the web's (and the web's /metrics, which reads only the top level of
  PROMETHEUS_MULTIPROC_DIR, never the worker's): Prometheus scraping both counts each event once.
  Without a port the worker writes into PROMETHEUS_MULTIPROC_DIR itself, if set, and the web's
  /metrics serves its counters (one host, one scrape target).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import click
from celery.signals import worker_shutdown
from django.conf import settings

from omnichannel.env import settings_load_or_exit

_own_metrics_dir: list[str] = []


def _refuse(command: str, message: str) -> None:
    sys.stderr.write(f"Configuration error: celery {command}: {message}\n")
    sys.stderr.flush()
    os._exit(2)  # not sys.exit: Celery catches SystemExit and prints its own traceback


def _refuse_without_a_broker(command: str) -> None:
    if settings.CELERY_BROKER_URL.startswith("memory://"):
        _refuse(command, "no broker: set REDIS_URL (or CELERY_BROKER_URL) to the Redis the web queues tasks on, "
                         "e.g. REDIS_URL=redis://127.0.0.1:6379/0. Without one there is nothing to work on "
                         "(with tasks inline, SYNC_USE_CELERY=0, no worker or beat is needed).")


def worker_process_prepare() -> None:
    """At the app's import by the `celery` command (see the module docstring). prometheus_client
    reads PROMETHEUS_MULTIPROC_DIR once, when it is imported (Django's set-up imports it, before any
    Celery signal), so the directory cannot wait for a worker signal."""
    context = click.get_current_context(silent=True)
    command = context.invoked_subcommand if context is not None else None
    if command not in ("worker", "beat"):
        return  # the web, a command, `celery inspect`, or a worker started without the CLI
    settings_load_or_exit()  # a bad environment stops here with one line, as before
    _refuse_without_a_broker(command)
    if command == "worker":
        _own_multiprocess_directory()


def _own_multiprocess_directory() -> None:
    if not settings.WORKER_METRICS_PORT:
        return
    if "prometheus_client" in sys.modules:
        # Its value class was chosen at import, without files: the pool's counters would never reach the endpoint.
        _refuse("worker", "prometheus_client was imported before the worker set up its metrics directory; "
                          "set PROMETHEUS_MULTIPROC_DIR in the environment instead")
    parent = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
    directory = tempfile.mkdtemp(prefix="celery-worker-metrics-", dir=parent)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    _own_metrics_dir.append(directory)


@worker_shutdown.connect
def _worker_stopped(**_kwargs) -> None:
    for directory in _own_metrics_dir:
        shutil.rmtree(directory, ignore_errors=True)
