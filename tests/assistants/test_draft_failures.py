"""generate_draft never loses a message: an unreachable or broken Chroma still gives a draft (without
retrieval, low confidence, the error on the model run); anything else is a failed model run plus a
draft.failed audit row, retried when transient, and left to the ensure_drafts sweep when not."""

from __future__ import annotations

import socket

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError
from django.utils import timezone

from assistants.models import ModelRun
from assistants.services import draft_error_is_transient, draft_generate
from assistants.tasks import generate_draft
from assistants.vectorstore import VectorStoreError
from conversations.models import Draft, Message
from conversations.services.drafts import messages_awaiting_draft
from customers.models import Order
from integrations.demo import seed_demo
from omnichannel import correlation
from omnichannel.models import AuditLog
from tests.builders import task_run_eagerly

pytestmark = pytest.mark.django_db


@pytest.fixture
def tent_message():
    seed_demo()
    return Message.objects.get(subject="Where is my tent?")


def _closed_port() -> int:
    # Bind, read the port, close: nothing listens there for the length of the test.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _assert_drafted_without_retrieval(draft: Draft, where: str) -> None:
    run = draft.model_run
    assert run.status == ModelRun.Status.OK
    assert where in run.evaluation["retrieval_error"]
    assert "retrieval unavailable, drafted without site chunks and past replies" in run.error
    assert not any(s["kind"] in {"site", "reply"} for s in run.sources)
    assert draft.confidence <= 0.3
    assert "1Z999AA10123456784" in draft.body  # the order facts come from Postgres, not Chroma
    audit = AuditLog.objects.get(event_type="draft.created", object_id=str(draft.pk))
    assert where in audit.payload["retrieval_error"] and audit.payload["provider_error"] == ""


def test_a_chroma_path_that_is_a_file_gives_a_draft_without_retrieval_that_says_so(settings, tmp_path, tent_message):
    not_a_directory = tmp_path / "chroma-file"
    not_a_directory.write_text("not a directory")
    settings.CHROMA_PATH = str(not_a_directory)
    # A broken store is not transient: even a caller willing to wait gets the degraded draft at once.
    outcome = draft_generate(message_id=tent_message.pk, wait_for_retrieval=True)
    _assert_drafted_without_retrieval(outcome.draft, f"CHROMA_PATH={not_a_directory}")
    assert not ModelRun.objects.filter(status=ModelRun.Status.FAILED).exists()


def test_an_unreachable_chroma_server_is_retried_then_drafted_without_retrieval(settings, tent_message):
    port = _closed_port()
    settings.CHROMA_HOST, settings.CHROMA_PORT = "127.0.0.1", port
    settings.TASK_MAX_RETRIES = DRAFT_MAX_RETRIES = 4  # as with workers (inline a task runs once)
    with correlation.use("corr-chroma-down"):
        result = generate_draft.apply(args=[tent_message.pk])  # eager: each retry runs at once
    # One failed run and audit row per attempt that waited for Chroma, then the last attempt drafts.
    failed = list(ModelRun.objects.filter(message=tent_message, status=ModelRun.Status.FAILED))
    assert len(failed) == DRAFT_MAX_RETRIES
    assert all("Could not connect" in run.error and run.evaluation["transient"] is True for run in failed)
    audits = AuditLog.objects.filter(event_type="draft.failed")
    assert audits.count() == DRAFT_MAX_RETRIES
    assert {a.correlation_id for a in audits} == {"corr-chroma-down"}
    assert {a.payload["model_run_id"] for a in audits} == {run.pk for run in failed}
    draft = Draft.objects.get(reply_to=tent_message, status=Draft.Status.PENDING)
    assert result.get() == draft.pk
    _assert_drafted_without_retrieval(draft, f"CHROMA_HOST=127.0.0.1:{port}")


def test_bad_data_while_building_the_context_is_a_recorded_failure_the_sweep_picks_up(tent_message):
    # A malformed line item (a string where Shopify sends an object) breaks the order's facts.
    Order.objects.filter(name="#1001").update(line_items=["not an object"])
    with correlation.use("corr-bad-order"):
        result = generate_draft.apply(args=[tent_message.pk])
    assert result.failed() and isinstance(result.result, AttributeError)
    run = ModelRun.objects.get(message=tent_message)  # permanent: recorded once, not retried
    assert run.status == ModelRun.Status.FAILED and run.error.startswith("AttributeError:")
    assert run.evaluation["transient"] is False
    audit = AuditLog.objects.get(event_type="draft.failed")
    assert audit.correlation_id == "corr-bad-order" and audit.payload["error"] == run.error
    assert audit.payload["message_id"] == tent_message.pk
    assert not Draft.objects.filter(reply_to=tent_message).exists()
    assert tent_message.pk in messages_awaiting_draft()  # ensure_drafts re-requests it


def test_a_message_deleted_before_its_task_ran_is_skipped():
    assert task_run_eagerly(generate_draft, 987654321) is None


def test_only_connection_failures_count_as_transient():
    assert draft_error_is_transient(OperationalError("server closed the connection unexpectedly"))
    assert draft_error_is_transient(VectorStoreError("Chroma query failed", transient=True))
    assert not draft_error_is_transient(VectorStoreError("Chroma query failed", transient=False))
    assert not draft_error_is_transient(AttributeError("'str' object has no attribute 'get'"))


def test_a_message_whose_draft_failed_for_good_three_times_waits_for_ops_instead(
        tent_message, django_capture_on_commit_callbacks):
    from conversations.services.drafts import DRAFT_GIVE_UP_AFTER
    from omnichannel.dead_letters import dead_letter_requeue
    from omnichannel.models import DeadLetter

    Order.objects.filter(name="#1001").update(line_items=["not an object"])  # fails every time
    for attempt in range(DRAFT_GIVE_UP_AFTER):
        assert tent_message.pk in messages_awaiting_draft(), attempt
        assert generate_draft.apply(args=[tent_message.pk]).failed()
    letters = DeadLetter.objects.filter(task_name="generate_draft")
    assert letters.count() == DRAFT_GIVE_UP_AFTER and all(letter.args == [tent_message.pk] for letter in letters)
    assert tent_message.pk not in messages_awaiting_draft()  # no fourth try every ten minutes

    # The dead letters are Ops' record, not the sweep's state: tidied away, the message still waits.
    DeadLetter.objects.exclude(pk=letters.first().pk).update(resolved_at=timezone.now())
    assert tent_message.pk not in messages_awaiting_draft()

    ops = get_user_model().objects.create_user(username="ops-requeue")
    Order.objects.filter(name="#1001").update(line_items=[])  # the cause is fixed
    with django_capture_on_commit_callbacks(execute=True):
        dead_letter_requeue(dead_letter_id=letters.first().pk, acting_user=ops)
    assert Draft.objects.filter(reply_to=tent_message).exists()  # the requeued task drafted it
