"""The `ensure_sent` sweep: lost or exhausted sends are re-queued; interrupted ones wait for an agent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Draft
from conversations.services.approvals import draft_approve
from conversations.services.sending import (
    INTERRUPTED_ERROR,
    LOST_SEND_GRACE_SECONDS,
    SWEEP_GRACE_SECONDS,
    draft_send_claim,
)
from conversations.tasks import ensure_sent, send_draft
from integrations.zoho.ingest import zoho_message_ingest
from omnichannel.models import AuditLog
from omnichannel.schedules import SCHEDULES
from tests.builders import make_draft, task_run_eagerly
from tests.integrations.zoho.conftest import fake_zoho  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(fake_zoho, agent_user):  # noqa: F811
    """An approved draft whose send_draft never ran (in a test transaction the on-commit enqueue is dropped)."""
    inbound, _ = zoho_message_ingest(dict(fake_zoho.messages["1732512000000100001"]))
    draft = make_draft(message=inbound, body="Hi Barbara,\nYes, it is rated to -10C.\nThe Demo Shop team")
    draft_approve(draft_id=draft.pk, acting_user=agent_user)
    return draft


def _age(draft: Draft, seconds: int = SWEEP_GRACE_SECONDS + 60, **fields) -> None:
    Draft.objects.filter(pk=draft.pk).update(updated_at=timezone.now() - timedelta(seconds=seconds), **fields)


def test_it_is_scheduled():
    assert SCHEDULES["ensure_sent"] == ("every", 60)


def test_a_draft_whose_task_was_lost_is_sent_by_the_sweep(fake_zoho, approved):  # noqa: F811
    assert task_run_eagerly(ensure_sent) == {"requeued": [], "interrupted": []}  # too recent: its own task may yet run
    _age(approved)
    assert task_run_eagerly(ensure_sent) == {"requeued": [approved.pk], "interrupted": []}
    approved.refresh_from_db()
    assert approved.status == Draft.Status.SENT and len(fake_zoho.sent) == 1
    assert task_run_eagerly(ensure_sent) == {"requeued": [], "interrupted": []}  # sent: nothing more to do


def test_a_draft_whose_send_was_lost_before_any_try_is_requeued_a_minute_after_it_was_due(fake_zoho,  # noqa: F811
                                                                                           approved):
    """Its send_draft task went with a killed worker or a Redis restart: it waits a minute, not 40."""
    Draft.objects.filter(pk=approved.pk).update(send_after=timezone.now() - timedelta(seconds=30))
    assert task_run_eagerly(ensure_sent)["requeued"] == []  # its task may still be on its way
    Draft.objects.filter(pk=approved.pk).update(send_after=timezone.now() - timedelta(seconds=LOST_SEND_GRACE_SECONDS + 5))
    assert task_run_eagerly(ensure_sent)["requeued"] == [approved.pk]
    approved.refresh_from_db()
    assert approved.status == Draft.Status.SENT and len(fake_zoho.sent) == 1


def test_a_draft_out_of_retries_after_transient_failures_is_requeued(fake_zoho, approved, settings):  # noqa: F811
    settings.ZOHO_MAX_ATTEMPTS = 1
    fake_zoho.fail_next(429)  # refused: certainly not sent, so safe to send again
    assert send_draft.apply(args=[approved.pk]).failed()  # the task's last try (inline: its only one)
    approved.refresh_from_db()
    assert approved.status == Draft.Status.APPROVED and "429" in approved.last_send_error
    _age(approved)
    assert task_run_eagerly(ensure_sent)["requeued"] == [approved.pk]
    approved.refresh_from_db()
    assert approved.status == Draft.Status.SENT and approved.send_attempts == 2 and len(fake_zoho.sent) == 1


def test_a_permanent_refusal_is_not_requeued(fake_zoho, approved):  # noqa: F811
    fake_zoho.messages.pop("1732512000000100001")  # Zoho answers 400: retrying cannot help
    task_run_eagerly(send_draft, approved.pk)
    _age(approved)
    assert task_run_eagerly(ensure_sent)["requeued"] == []
    assert not fake_zoho.sent


def test_an_interrupted_send_is_flagged_for_an_agent_and_not_sent_again(
        fake_zoho, approved, agent_user, client, django_capture_on_commit_callbacks):  # noqa: F811
    assert draft_send_claim(draft_id=approved.pk) is not None  # a worker claimed it, called Zoho, then died
    long_ago = timezone.now() - timedelta(hours=1)
    _age(approved, sending_started_at=long_ago, send_lease_expires_at=long_ago)  # no heartbeat since
    assert task_run_eagerly(send_draft, approved.pk) == "nothing to send"  # a redelivered task does not re-send
    assert task_run_eagerly(ensure_sent) == {"requeued": [], "interrupted": [approved.pk]}
    assert task_run_eagerly(ensure_sent) == {"requeued": [], "interrupted": []}  # flagged once
    assert not fake_zoho.sent
    approved.refresh_from_db()
    assert approved.last_send_error == INTERRUPTED_ERROR and approved.sending_started_at == long_ago
    assert AuditLog.objects.filter(event_type="draft.send_interrupted", object_id=str(approved.pk)).count() == 1

    client.force_login(agent_user)
    page = client.get(f"/admin/conversations/draft/{approved.pk}/change/").content.decode()
    assert "may or may not have reached Zoho" in page and 'id="resend"' in page
    with django_capture_on_commit_callbacks(execute=True):  # the agent checked Zoho and sends it again
        response = client.post(f"/admin/conversations/draft/{approved.pk}/resend/", follow=True)
    assert "queued for sending again" in response.content.decode()
    approved.refresh_from_db()
    assert approved.status == Draft.Status.SENT and len(fake_zoho.sent) == 1
    assert AuditLog.objects.filter(event_type="draft.send_retried", actor_user=agent_user).count() == 1
    again = client.post(f"/admin/conversations/draft/{approved.pk}/resend/", follow=True).content.decode()
    assert "nothing to send again" in again and len(fake_zoho.sent) == 1
