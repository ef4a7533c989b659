"""Setting off work in another app by task name, after the current transaction commits.

Domain apps must not import `assistants` or `integrations`; they enqueue those apps' tasks
by their names instead, imported from `omnichannel/task_names.py` (never typed as strings: a
name that is not one of ours is refused at the call, not found missing after the commit). In
embedded mode (SYNC_USE_CELERY=0) the task runs inline, still only after commit.

Work that failed for good lands in `DeadLetter` (written from Celery's `task_failure` signal,
omnichannel/tasks.py); `dead_letter_requeue` sends it again by name.
"""

from __future__ import annotations

import json
import logging

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from omnichannel import correlation
from omnichannel.audit import audit_log_write
from omnichannel.celery import app
from omnichannel.errors import ApplicationError, StateConflict
from omnichannel.models import DeadLetter
from omnichannel.task_names import task_name_check

logger = logging.getLogger(__name__)

TRACEBACK_EXCERPT_CHARS = 4000  # the end of a traceback says where it failed; the head is framework frames


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
    _send_on_commit(task_name_check(task_name), args, kwargs, countdown=countdown)


def _send_on_commit(task_name: str, args, kwargs, *, countdown: float) -> None:
    correlation_id = correlation.get()

    def _send() -> None:
        if not task_registered(task_name):
            logger.warning("task %s is not registered; nothing enqueued", task_name)
            return
        with correlation.use(correlation_id or correlation.ensure()):
            app.tasks[task_name].apply_async(args=args, kwargs=kwargs, countdown=countdown or None)

    transaction.on_commit(_send)


def _as_json(value):
    # Task arguments are JSON on the wire; an eager call may pass anything, kept as its repr.
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, default=repr))


def dead_letter_record(*, task_name: str, task_id: str, args, kwargs, retries: int, exception: BaseException,
                       traceback_text: str):
    # Its own savepoint: an eager task fails inside the caller's transaction, which must survive this insert.
    with transaction.atomic():
        return DeadLetter.objects.create(
            task_name=task_name[:200], task_id=(task_id or "")[:255], args=_as_json(list(args or [])),
            kwargs=_as_json(dict(kwargs or {})), retries=retries or 0,
            exception_type=f"{type(exception).__module__}.{type(exception).__qualname__}"[:200],
            exception_message=str(exception), traceback=(traceback_text or "")[-TRACEBACK_EXCERPT_CHARS:],
            correlation_id=correlation.get()[:64],
        )


def dead_letter_requeue(*, dead_letter_id: int, acting_user) -> None:
    """Send the task again with its original arguments (after commit) and mark the record resolved."""
    with transaction.atomic():
        dead_letter = DeadLetter.objects.select_for_update().get(pk=dead_letter_id)
        if dead_letter.resolved_at is not None:
            raise StateConflict(f"dead letter {dead_letter.pk} ({dead_letter.task_name}) was already resolved")
        if not task_registered(dead_letter.task_name):
            raise ApplicationError(f"task {dead_letter.task_name!r} is not registered here; cannot requeue")
        DeadLetter.objects.filter(pk=dead_letter.pk).update(resolved_at=timezone.now(), resolved_by=acting_user)
        audit_log_write(event_type="dead_letter.requeued", acting_user=acting_user, obj=dead_letter,
                        payload={"task": dead_letter.task_name, "task_id": dead_letter.task_id,
                                 "original_correlation_id": dead_letter.correlation_id})
        # The stored name, registered here (checked above): the record may predate a rename of TaskName.
        _send_on_commit(dead_letter.task_name, dead_letter.args, dead_letter.kwargs, countdown=0)
