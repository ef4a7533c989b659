"""Work that failed for good: Celery's `task_failure` signal (omnichannel/tasks.py) records it as a
`DeadLetter`, which Ops requeue from the admin (`dead_letter_requeue` sends it again by its stored name).
A dead letter is a record for people, never an input to a decision (the owning models hold state)."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from omnichannel import correlation
from omnichannel.audit import audit_log_write
from omnichannel.errors import ApplicationError, StateConflict
from omnichannel.jobs import send_on_commit, task_registered
from omnichannel.models import DeadLetter

TRACEBACK_EXCERPT_CHARS = 4000  # the end of a traceback says where it failed; the head is framework frames


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
        send_on_commit(dead_letter.task_name, dead_letter.args, dead_letter.kwargs, countdown=0)
