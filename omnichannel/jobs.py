"""Setting off work in another app by task name, after the current transaction commits.

Domain apps must not import `assistants` or `integrations`; they enqueue those apps' tasks
by their names instead, imported from `omnichannel/task_names.py` (never typed as strings: a
name that is not one of ours is refused at the call, not found missing after the commit). In
embedded mode (SYNC_USE_CELERY=0) the task runs inline, still only after commit.
"""

from __future__ import annotations

import logging

from django.db import transaction

from omnichannel import correlation
from omnichannel.celery import app
from omnichannel.task_names import task_name_check

logger = logging.getLogger(__name__)


def task_registered(task_name: str) -> bool:
    # autodiscover_tasks is lazy: import every app's tasks module the first time a name is missing
    # (not on every call: the import runs Django's model checks, ~50 ms, once per page of a backfill).
    if task_name not in app.tasks:
        app.loader.import_default_modules()
    return task_name in app.tasks


def enqueue(task_name: str, *args, **kwargs) -> None:
    enqueue_later(task_name, *args, countdown=0, **kwargs)


def enqueue_later(task_name: str, *args, countdown: float, **kwargs) -> None:
    """`enqueue`, with the task held back `countdown` seconds by the broker (inline: runs at once).

    The task carries the correlation id current when this is called, not when the transaction
    commits: an on-commit callback may run after the flow that set it off has left its context.
    ValueError at once for a name that is not in `TaskName`."""
    send_on_commit(task_name_check(task_name), args, kwargs, countdown=countdown)


def send_on_commit(task_name: str, args, kwargs, *, countdown: float) -> None:
    """For a name already checked: `enqueue`'s, or a stored one (a dead letter's, omnichannel/dead_letters.py)."""
    correlation_id = correlation.get()

    def _send() -> None:
        if not task_registered(task_name):
            logger.warning("task %s is not registered; nothing enqueued", task_name)
            return
        with correlation.use(correlation_id or correlation.ensure()):
            app.tasks[task_name].apply_async(args=args, kwargs=kwargs, countdown=countdown or None)

    transaction.on_commit(_send)
