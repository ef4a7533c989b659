"""A task that fails for good leaves one DeadLetter row (not one per retry); Ops requeue it from the admin.

The tasks below are real Celery tasks run through Celery's tracer in eager mode (task_always_eager, as
in embedded runs and SYNC_USE_CELERY=0): the same code path that sends `task_failure` in a worker.
"""

from __future__ import annotations

import uuid

import pytest
from celery import shared_task
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from prometheus_client import REGISTRY

from omnichannel import correlation
from omnichannel.celery import app
from omnichannel.dead_letters import dead_letter_requeue
from omnichannel.errors import StateConflict
from omnichannel.models import AuditLog, DeadLetter
from omnichannel.roles import AGENTS, OPS

pytestmark = pytest.mark.django_db


@shared_task(name="tests.ops.always_fails")
def always_fails(order_id: int, *, reason: str) -> None:
    raise ValueError(f"order {order_id} cannot be processed: {reason}")


@shared_task(bind=True, name="tests.ops.retries_then_fails", max_retries=2)
def retries_then_fails(self, key: str) -> None:
    cache.add(key, 0, timeout=60)
    cache.incr(key)
    raise self.retry(exc=ConnectionError("shop unreachable"), countdown=0)


@shared_task(name="tests.ops.fails_once")
def fails_once(key: str) -> int:
    cache.add(key, 0, timeout=60)
    attempt = cache.incr(key)
    if attempt == 1:
        raise ConnectionError("first attempt fails")
    return attempt


@pytest.fixture
def eager():
    """task_always_eager, whatever SYNC_USE_CELERY the run has: `.delay()` runs here, through the tracer."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def _failures(task: str) -> float:
    return REGISTRY.get_sample_value("celery_task_failures_total", {"task": task}) or 0.0


def _user(group_name: str):
    user = get_user_model().objects.create_user(username=f"dl-{group_name}", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def test_a_failing_task_leaves_one_dead_letter_with_what_is_needed_to_requeue_it(eager):
    failures_before = _failures("tests.ops.always_fails")
    with correlation.use("corr-dead-letter-1"):
        result = always_fails.delay(42, reason="bad address")
    assert result.failed()
    letter = DeadLetter.objects.get()
    assert letter.task_name == "tests.ops.always_fails" and letter.task_id == result.id
    assert letter.args == [42] and letter.kwargs == {"reason": "bad address"}
    assert letter.exception_type == "builtins.ValueError"
    assert letter.exception_message == "order 42 cannot be processed: bad address"
    assert "always_fails" in letter.traceback and "ValueError" in letter.traceback
    assert letter.correlation_id == "corr-dead-letter-1" and letter.resolved_at is None
    assert _failures("tests.ops.always_fails") == failures_before + 1


def test_retries_do_not_dead_letter_only_the_last_failure_does(eager):
    key = f"dl-retry-{uuid.uuid4().hex}"
    result = retries_then_fails.delay(key)
    assert result.failed() and cache.get(key) == 3  # the first run and its two retries
    letter = DeadLetter.objects.get()
    assert letter.task_name == "tests.ops.retries_then_fails" and letter.retries == 2
    assert letter.exception_type == "builtins.ConnectionError"


def test_a_successful_task_leaves_no_dead_letter(eager):
    key = f"dl-ok-{uuid.uuid4().hex}"
    cache.set(key, 1, timeout=60)  # the "first attempt" already happened
    assert fails_once.delay(key).get() == 2
    assert not DeadLetter.objects.exists()


def test_ops_requeue_from_the_admin_runs_the_task_again_and_resolves_the_record(
        eager, client, django_capture_on_commit_callbacks):
    key = f"dl-requeue-{uuid.uuid4().hex}"
    fails_once.delay(key)
    letter = DeadLetter.objects.get(task_name="tests.ops.fails_once")
    ops = _user(OPS)
    client.force_login(ops)
    changelist = "/admin/omnichannel/deadletter/"
    assert client.get(changelist).status_code == 200
    assert client.get(f"{changelist}{letter.pk}/change/").status_code == 200  # read-only detail
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(changelist, {"action": "requeue", "_selected_action": [letter.pk]}, follow=True)
    assert "Requeued 1 task(s)." in response.content.decode()
    assert cache.get(key) == 2  # the task ran again, with its original argument, and succeeded
    letter.refresh_from_db()
    assert letter.resolved_at is not None and letter.resolved_by == ops
    assert DeadLetter.objects.count() == 1  # the second run did not fail
    event = AuditLog.objects.get(event_type="dead_letter.requeued")
    assert event.actor_user == ops and event.payload["task"] == "tests.ops.fails_once"
    with pytest.raises(StateConflict, match="already resolved"):
        dead_letter_requeue(dead_letter_id=letter.pk, acting_user=ops)


def test_agents_do_not_see_dead_letters(client):
    client.force_login(_user(AGENTS))
    assert client.get("/admin/omnichannel/deadletter/").status_code == 403
