"""Correlation ids: one id per request or job, carried into Celery tasks and onto audit rows.

A request gets the caller's `X-Correlation-ID` (or a new uuid); a task published while an id
is set carries it in its headers, and the worker sets it again before the task runs, so every
audit row and log line of one flow shares one id across processes.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from contextlib import contextmanager

from celery.signals import before_task_publish, task_postrun, task_prerun

HEADER = "X-Correlation-ID"
TASK_HEADER = "omni_correlation_id"
_META_KEY = "HTTP_X_CORRELATION_ID"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="")


def new_id() -> str:
    return uuid.uuid4().hex


def get() -> str:
    return _current.get()


def ensure() -> str:
    """The current id, creating one for work that started outside a request (a command, beat)."""
    value = _current.get()
    if not value:
        value = new_id()
        _current.set(value)
    return value


@contextmanager
def use(correlation_id: str | None):
    token = _current.set(correlation_id or new_id())
    try:
        yield _current.get()
    finally:
        _current.reset(token)


class CorrelationIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get(_META_KEY, "")
        value = incoming if _VALID.match(incoming or "") else new_id()
        token = _current.set(value)
        request.correlation_id = value
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = value
        return response


class CorrelationIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = _current.get() or "-"
        return True


@before_task_publish.connect
def _add_header(headers=None, **_kwargs):
    # Not "correlation_id": that name is AMQP's message property, which Celery fills with the task id.
    if headers is not None and _current.get() and TASK_HEADER not in headers:
        headers[TASK_HEADER] = _current.get()


_task_tokens: dict[str, contextvars.Token] = {}


@task_prerun.connect
def _enter_task(task_id=None, task=None, **_kwargs):
    value = None
    if task is not None:
        request = task.request
        value = getattr(request, TASK_HEADER, None) or (getattr(request, "headers", None) or {}).get(TASK_HEADER)
    # Eager (inline) tasks run inside the caller's context: keep its id.
    if not value:
        value = _current.get() or new_id()
    _task_tokens[task_id] = _current.set(value)


@task_postrun.connect
def _leave_task(task_id=None, **_kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        try:
            _current.reset(token)
        except ValueError:  # reset from another context (eager task in a thread): harmless
            pass
