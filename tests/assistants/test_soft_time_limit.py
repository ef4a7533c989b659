"""A provider that never answers cannot hold a drafting worker past the task's soft time limit.

A real worker, a real (gated, never opened) OpenAI-compatible endpoint: the soft limit interrupts the
HTTP read in the worker's pool process, the task is retried once (omnichannel/task_policy.py), the
second try is interrupted too, and the task lands in the dead letters, all well before the provider's
own read timeout would have ended the call.
"""

from __future__ import annotations

import time

import pytest

from omnichannel.models import DeadLetter
from tests.builders import make_inbound_message
from tests.gated_llm import GatedChatServer
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
SOFT_LIMIT = 12  # seconds: room for a first draft on a loaded 2-core machine, far below the read timeout
LLM_READ_TIMEOUT = 58  # what would end each call without the soft limit (the gate itself answers at 60 s)


def test_a_provider_that_never_answers_is_cut_off_at_the_soft_limit_retried_once_then_dead_lettered(
        celery_worker_process):
    """The limits are the worker's own (CELERY_TASK_SOFT_TIME_LIMIT in its environment): this test process,
    which queues the task, keeps the default 300 s, as a web process configured apart from its workers would."""
    llm = GatedChatServer()
    try:
        worker = celery_worker_process(
            LLM_PROVIDER="openai", LLM_BASE_URL=llm.url, LLM_API_KEY="sk-test",
            LLM_TIMEOUT_SECONDS=str(LLM_READ_TIMEOUT), LLM_MAX_RETRIES="1",
            CELERY_TASK_SOFT_TIME_LIMIT=str(SOFT_LIMIT), CELERY_TASK_TIME_LIMIT="30",
            CELERY_LONG_TASK_TIME_LIMIT="30", CELERY_VISIBILITY_TIMEOUT="90",
            TASK_RETRY_BACKOFF_SECONDS="1", TASK_MAX_RETRIES="3",
            concurrency=1)  # the retry runs in the same, warm, pool process
        message = make_inbound_message(subject="Wo bleibt meine Bestellung?",
                                       body="Hallo, meine Bestellung 1001 ist immer noch nicht da. Gruß, Ada")
        assert llm.wait_for_requests(1, timeout=120), worker.log_tail()
        first_call = time.monotonic()
        # The retry's call arrives only if the first one was interrupted: the gate holds it 60 s otherwise.
        assert llm.wait_for_requests(2, timeout=LLM_READ_TIMEOUT - 8), worker.log_tail()
        retried_after = time.monotonic() - first_call
        assert wait_for(lambda: DeadLetter.objects.filter(task_name="generate_draft", args=[message.pk]).exists(),
                        timeout=LLM_READ_TIMEOUT), worker.log_tail()
        dead_after = time.monotonic() - first_call
    finally:
        llm.close()
    letter = DeadLetter.objects.get(task_name="generate_draft", args=[message.pk])
    assert letter.exception_type.endswith("SoftTimeLimitExceeded") and letter.retries == 1
    assert llm.arrived == 2  # retried once, not again (a second soft limit ends it)
    # Each call was cut at the soft limit: without it, the first alone would have lasted LLM_READ_TIMEOUT.
    assert retried_after < LLM_READ_TIMEOUT - 8 and dead_after < 2 * LLM_READ_TIMEOUT - 8, (retried_after, dead_after)
