"""The one retry policy for Celery tasks.

A task that may fail for a while (a provider's 5xx or 429, a dropped database or Chroma connection)
is declared with `base=RetryingTask` and names its transient exception classes in `autoretry_for`:

    @shared_task(base=RetryingTask, bind=True, name=TaskName.X, autoretry_for=(OperationalError, ZohoError))

- Only those classes are retried, and only when the error does not say it is permanent: a provider's
  4xx carries `permanent=True` (ZohoError, ShopifyError), a VectorStoreError `transient=False`; a task
  with its own rule passes `error_is_transient=staticmethod(rule)`. Anything else fails at once.
- Retries wait Celery's exponential backoff with full jitter, a random 0 .. TASK_RETRY_BACKOFF_SECONDS *
  2**retry seconds capped at TASK_RETRY_BACKOFF_MAX_SECONDS, so workers retrying after one outage do not
  come back in step; at most TASK_MAX_RETRIES times (settings.py: 10 s, 600 s, 6 with workers).
- A soft time limit (SoftTimeLimitExceeded: a slow machine or provider) is retried only by a task that
  names it in `autoretry_for`, whose work is safe to run again, and only once, from its first try: one
  more run may finish, a second would only hold a worker for another limit's length.
- After the last retry the task fails: Celery's task_failure signal writes its DeadLetter row
  (omnichannel/tasks.py), which Ops requeue from the admin.
- Inline (SYNC_USE_CELERY=0) TASK_MAX_RETRIES is 0: a retry would run at once, without its wait.

Work that must not be repeated blindly is the task's own decision, before it raises: a reply whose POST
may have reached Zoho (`maybe_sent`) is never retried by a machine (conversations/tasks.py: send_draft).
"""

from __future__ import annotations

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings


def error_is_transient(exc: BaseException) -> bool:
    """One of a task's transient classes, unless the error itself says that retrying cannot help."""
    return not getattr(exc, "permanent", False) and getattr(exc, "transient", True) is not False


class RetryingTask(Task):
    acks_late = True
    autoretry_for: tuple[type[BaseException], ...] = ()
    retry_backoff = settings.TASK_RETRY_BACKOFF_SECONDS
    retry_backoff_max = settings.TASK_RETRY_BACKOFF_MAX_SECONDS
    retry_jitter = True
    error_is_transient = staticmethod(error_is_transient)

    @property
    def max_retries(self) -> int:  # read at each retry, so a test's settings override applies
        return settings.TASK_MAX_RETRIES

    @property
    def last_try(self) -> bool:
        """This attempt is the last one: a failure now is final (a task may degrade instead)."""
        return self.request.retries >= self.max_retries

    def retry(self, args=None, kwargs=None, exc=None, throw=True, eta=None, countdown=None, max_retries=None, **options):
        if isinstance(exc, SoftTimeLimitExceeded):
            if self.request.retries > 0:
                raise exc  # once only (see the module docstring)
        elif exc is not None and not self.error_is_transient(exc):
            raise exc  # permanent: the task fails now (and is dead-lettered), no retry
        return super().retry(
            args=args, kwargs=kwargs, exc=exc, throw=throw, eta=eta, countdown=countdown, max_retries=max_retries, **options
        )


def task_run_later(task: Task, *, countdown: float, **kwargs) -> None:
    """Run this task again in `countdown` seconds, from inside it (the work is not due yet). A retry
    that does not raise: with workers it is queued with its countdown; inline there is no later and
    nothing is queued (Celery runs an eager retry only when it is raised), so the caller returns and
    the sweep that covers this work picks it up."""
    try:
        task.retry(
            kwargs={**task.request.kwargs, **kwargs} if kwargs else None,
            countdown=countdown,
            throw=False,
            max_retries=task.request.retries + 1,
        )
    finally:
        # Task.retry keeps an explicit max_retries on the task instance for its autoretry wrapper: not ours.
        task.__dict__.pop("override_max_retries", None)
