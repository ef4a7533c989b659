"""One retry policy (omnichannel/task_policy.py): named transient classes are retried with Celery's backoff
and full jitter, permanent errors and anything else fail at once, and the end of the retries is a dead letter.
Eager here: each retry runs at once (the waits are shown by tests/omnichannel/test_send_retry.py's worker)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from omnichannel.celery import app
from omnichannel.models import DeadLetter
from omnichannel.task_policy import RetryingTask, error_is_transient
from tests.builders import task_run_eagerly

ROOT = Path(__file__).resolve().parents[2]
ATTEMPTS: dict[str, int] = {}


class Flaky(Exception):
    def __init__(self, message: str = "flaky", *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


@shared_task(base=RetryingTask, bind=True, name="tests.policy.flaky", autoretry_for=(Flaky,))
def flaky(self, key: str, fail_times: int, permanent: bool = False) -> str:
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    if ATTEMPTS[key] <= fail_times:
        raise Flaky(f"attempt {ATTEMPTS[key]}", permanent=permanent)
    return f"done after {ATTEMPTS[key]} (last try: {self.last_try})"


@shared_task(base=RetryingTask, bind=True, name="tests.policy.buggy", autoretry_for=(Flaky,))
def buggy(self, key: str) -> str:
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    raise KeyError("a bug is not transient")


@shared_task(base=RetryingTask, bind=True, name="tests.policy.slow", autoretry_for=(Flaky, SoftTimeLimitExceeded))
def slow(self, key: str, soft_limits: int, flaky_first: bool = False) -> str:
    """Runs into its soft time limit `soft_limits` times (after one transient error, with `flaky_first`)."""
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    if flaky_first and ATTEMPTS[key] == 1:
        raise Flaky("flaky")
    if ATTEMPTS[key] - flaky_first <= soft_limits:
        raise SoftTimeLimitExceeded()
    return f"done after {ATTEMPTS[key]}"


@pytest.mark.django_db
def test_a_transient_error_is_retried_until_it_succeeds(settings):
    settings.TASK_MAX_RETRIES = 6
    assert task_run_eagerly(flaky, "ok", 2) == "done after 3 (last try: False)"
    assert ATTEMPTS["ok"] == 3 and not DeadLetter.objects.exists()


@pytest.mark.django_db
def test_after_the_last_retry_the_task_fails_into_a_dead_letter(settings):
    settings.TASK_MAX_RETRIES = 3
    result = flaky.apply(args=["out", 10])
    assert result.failed() and isinstance(result.result, Flaky)
    assert ATTEMPTS["out"] == 4  # the first try and three retries
    letter = DeadLetter.objects.get(task_name="tests.policy.flaky")
    assert letter.retries == 3 and letter.args == ["out", 10] and letter.exception_message == "attempt 4"


@pytest.mark.django_db
@pytest.mark.parametrize("task, args", [(flaky, ["permanent", 5, True]), (buggy, ["bug"])])
def test_a_permanent_error_or_an_unnamed_class_fails_at_once(settings, task, args):
    settings.TASK_MAX_RETRIES = 6
    assert task.apply(args=args).failed()
    assert ATTEMPTS[args[0]] == 1
    assert DeadLetter.objects.get(task_name=task.name).retries == 0


@pytest.mark.django_db
def test_inline_a_task_runs_once_because_a_retry_would_not_wait(settings):
    assert settings.TASK_MAX_RETRIES == 0  # the tests run inline (SYNC_USE_CELERY=0)
    assert task_run_eagerly(flaky, "inline", 0) == "done after 1 (last try: True)"
    assert flaky.apply(args=["inline-fail", 1]).failed() and ATTEMPTS["inline-fail"] == 1


def test_the_backoff_is_celerys_exponential_with_full_jitter_capped(settings):
    assert (RetryingTask.retry_backoff, RetryingTask.retry_backoff_max, RetryingTask.retry_jitter) == (
        settings.TASK_RETRY_BACKOFF_SECONDS,
        settings.TASK_RETRY_BACKOFF_MAX_SECONDS,
        True,
    )
    assert (settings.TASK_RETRY_BACKOFF_SECONDS, settings.TASK_RETRY_BACKOFF_MAX_SECONDS) == (10, 600)


def test_errors_that_say_they_are_permanent_are_not_transient():
    assert error_is_transient(Flaky()) and not error_is_transient(Flaky(permanent=True))
    assert not error_is_transient(type("Broken", (Exception,), {"transient": False})())


def test_every_task_that_retries_uses_the_policy_and_nothing_else_retries_by_hand():
    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if not name.startswith(("celery.", "tests."))}
    retrying = {name for name, task in ours.items() if getattr(task, "autoretry_for", ())}
    assert retrying == {name for name, task in ours.items() if isinstance(task, RetryingTask)}
    assert {"send_draft", "generate_draft", "process_incoming_email_task", "process_shopify_event_task"} <= retrying
    by_hand, eager = [], []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if {".venv", "tests", "var", "migrations"} & set(relative.parts):
            continue
        text = path.read_text()
        if "is_eager" in text:
            eager.append(str(relative))
        for node in ast.walk(ast.parse(text)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "retry"
                and relative != Path("omnichannel/task_policy.py")
            ):
                by_hand.append(f"{relative}:{node.lineno}")
    assert eager == [] and by_hand == []


@pytest.mark.django_db
def test_a_soft_time_limit_is_retried_once_from_the_first_try_by_a_task_that_names_it(settings):
    settings.TASK_MAX_RETRIES = 6
    assert task_run_eagerly(slow, "slow-once", 1) == "done after 2"
    result = slow.apply(args=["slow-twice", 5])
    assert result.failed() and isinstance(result.result, SoftTimeLimitExceeded)
    assert ATTEMPTS["slow-twice"] == 2  # one retry, not TASK_MAX_RETRIES: a slow run repeated holds a worker
    assert DeadLetter.objects.get(task_name="tests.policy.slow").retries == 1
    result = slow.apply(args=["slow-late", 1, True])  # a retry already spent on a transient error
    assert result.failed() and ATTEMPTS["slow-late"] == 2


@pytest.mark.django_db
def test_a_soft_time_limit_fails_at_once_where_the_task_does_not_name_it(settings):
    settings.TASK_MAX_RETRIES = 6

    @shared_task(base=RetryingTask, bind=True, name="tests.policy.slow_unnamed", autoretry_for=(Flaky,))
    def slow_unnamed(self) -> None:
        ATTEMPTS["slow-unnamed"] = ATTEMPTS.get("slow-unnamed", 0) + 1
        raise SoftTimeLimitExceeded()

    assert slow_unnamed.apply().failed() and ATTEMPTS["slow-unnamed"] == 1


def test_generate_draft_rides_out_one_soft_time_limit_and_send_draft_never_does():
    """Drafting is idempotent (at most one automatic draft per message, under the conversation lock); a send is
    not (conversations/tasks.py: send_draft flags it for an agent instead)."""
    app.loader.import_default_modules()
    assert SoftTimeLimitExceeded in app.tasks["generate_draft"].autoretry_for
    assert SoftTimeLimitExceeded not in app.tasks["send_draft"].autoretry_for
