"""Cross-cutting tasks (names are contracts: see ARCHITECTURE.md) and the task-failure handlers."""

from __future__ import annotations

import logging
import os

from celery import shared_task
from celery.signals import task_failure, worker_init, worker_process_shutdown
from django.conf import settings
from django.db import DatabaseError
from prometheus_client import multiprocess

from omnichannel.alerts import alerts_check
from omnichannel.backups import backup_create
from omnichannel.dead_letters import dead_letter_record
from omnichannel.metrics import celery_task_failures_total
from omnichannel.metrics_view import worker_metrics_serve
from omnichannel.task_names import TaskName

logger = logging.getLogger(__name__)


@shared_task(name=TaskName.CHECK_ALERTS)
def check_alerts() -> list[str]:
    return [alert.name for alert in alerts_check()]


@task_failure.connect
def _count_failure(sender=None, **_kwargs):
    celery_task_failures_total.labels(task=getattr(sender, "name", "unknown")).inc()


@task_failure.connect
def _record_dead_letter(sender=None, task_id=None, exception=None, args=None, kwargs=None, einfo=None, **_kwargs):
    # Celery sends task_failure only when a task stops for good (a retry sends task_retry), in a worker
    # and in eager mode alike (both run the task through celery.app.trace). The correlation id is still
    # the task's here: task_postrun, which resets it, comes after.
    request = getattr(sender, "request", None)
    try:
        dead_letter_record(task_name=getattr(sender, "name", "unknown"), task_id=task_id or "", args=args,
                           kwargs=kwargs, retries=getattr(request, "retries", 0) or 0,
                           exception=exception if exception is not None else RuntimeError("unknown failure"),
                           traceback_text=getattr(einfo, "traceback", "") or "")
    except DatabaseError:
        # The database is down too: the failure is still in the worker log (and the counter above).
        logger.exception("could not record the dead letter of task %s", getattr(sender, "name", "unknown"))


@worker_init.connect
def _serve_worker_metrics(**_kwargs):
    # In the worker's main process, before the pool forks: one endpoint for all of this worker's processes.
    if settings.WORKER_METRICS_PORT:
        worker_metrics_serve(port=settings.WORKER_METRICS_PORT, addr=settings.WORKER_METRICS_ADDR)
        logger.info("worker metrics on %s:%s", settings.WORKER_METRICS_ADDR, settings.WORKER_METRICS_PORT)


@worker_process_shutdown.connect
def _forget_dead_pool_process(pid=None, **_kwargs):
    # Multiprocess mode: a pool process that exits must not keep its live gauges (as gunicorn's child_exit).
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid or os.getpid())


@shared_task(name=TaskName.BACKUP_DB)
def backup_db() -> str:
    return backup_create()
