"""Setting off work in another app by task name, after the current transaction commits.

Domain apps must not import `assistants` or `integrations`; they enqueue those apps' tasks
by their contract names (ARCHITECTURE.md) instead. In embedded mode (SYNC_USE_CELERY=0)
the task runs inline, still only after commit.
"""

from __future__ import annotations

import logging

from django.db import transaction

from omnichannel.celery import app

logger = logging.getLogger(__name__)


def enqueue(task_name: str, *args, **kwargs) -> None:
    def _send() -> None:
        # autodiscover_tasks is lazy: make sure every app's tasks module has been imported.
        app.loader.import_default_modules()
        if task_name not in app.tasks:
            logger.warning("task %s is not registered; nothing enqueued", task_name)
            return
        app.tasks[task_name].apply_async(args=args, kwargs=kwargs)

    transaction.on_commit(_send)
