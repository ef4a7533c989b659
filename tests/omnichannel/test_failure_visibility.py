"""Failures are visible within minutes: a reply that failed to send (gauge, counter, alerts), failed
deliveries of every source, and a send whose worker died flagged once its lease has expired."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from prometheus_client import REGISTRY

from conversations.models import Draft
from conversations.services.approvals import draft_approve
from conversations.services.sending import (
    INTERRUPTED_ERROR,
    SWEEP_MAX_ATTEMPTS,
    draft_send_claim,
    draft_send_retry,
    drafts_send_failed_for_good,
    drafts_send_sweep,
)
from conversations.tasks import ensure_sent, send_draft
from integrations.zoho.ingest import zoho_message_ingest
from omnichannel.alerts import alerts_evaluate
from omnichannel.errors import StateConflict
from omnichannel.models import WebhookDelivery
from omnichannel.schedules import SCHEDULES
from tests.builders import make_draft, task_run_eagerly
from tests.integrations.zoho.conftest import fake_zoho  # noqa: F401 - the fixture
from tests.omnichannel.test_metrics_scrape import _scrape

MESSAGE_ID = "1732512000000100001"  # in fixtures/zoho/mailbox.json


def _failed(reason: str) -> float:
    return REGISTRY.get_sample_value("sends_failed_total", {"reason": reason}) or 0.0


@pytest.fixture
def approved(fake_zoho, agent_user):  # noqa: F811
    """An approved draft whose send has not run yet (in a test transaction the on-commit send is dropped)."""
    inbound, _ = zoho_message_ingest(dict(fake_zoho.messages[MESSAGE_ID]))
    draft = make_draft(message=inbound, body="Hi Barbara,\nYes, it is rated to -10C.\nThe Demo Shop team")
    draft_approve(draft_id=draft.pk, acting_user=agent_user)
    return draft


@pytest.mark.django_db
def test_drafts_send_failed_counts_approved_unsent_replies_with_a_send_error_at_scrape_time(client, fake_zoho,  # noqa: F811
                                                                                          approved):
    make_draft()  # pending, no error: not counted
    assert _scrape(client)[("drafts_send_failed", ())] == 0
    fake_zoho.messages.pop(MESSAGE_ID)  # Zoho answers 400: refused for good
    assert task_run_eagerly(send_draft, approved.pk) == "failed"
    assert _scrape(client)[("drafts_send_failed", ())] == 1


@pytest.mark.django_db
def test_a_send_refused_for_good_is_counted_and_a_failure_that_will_be_retried_is_not(settings, fake_zoho,  # noqa: F811
                                                                                     approved):
    settings.ZOHO_MAX_ATTEMPTS = 1
    refused, out_of_tries = _failed("refused"), _failed("out_of_tries")
    fake_zoho.fail_next(429)  # Zoho refused (it did not act): transient
    assert send_draft.apply(args=[approved.pk]).failed()  # inline, its last try; the sweep re-queues it later
    assert (_failed("refused"), _failed("out_of_tries")) == (refused, out_of_tries)
    assert not drafts_send_failed_for_good().exists()
    fake_zoho.messages.pop(MESSAGE_ID)
    assert task_run_eagerly(send_draft, approved.pk) == "failed"
    assert _failed("refused") == refused + 1
    assert list(drafts_send_failed_for_good().values_list("pk", flat=True)) == [approved.pk]


@pytest.mark.django_db
def test_a_send_out_of_tries_is_counted_as_failed_for_good(settings, fake_zoho, approved):  # noqa: F811
    settings.ZOHO_MAX_ATTEMPTS = 1
    Draft.objects.filter(pk=approved.pk).update(send_attempts=SWEEP_MAX_ATTEMPTS - 1)
    before = _failed("out_of_tries")
    fake_zoho.fail_next(429)
    assert task_run_eagerly(send_draft, approved.pk) == "failed"
    assert _failed("out_of_tries") == before + 1
    assert list(drafts_send_failed_for_good().values_list("pk", flat=True)) == [approved.pk]


@pytest.mark.django_db
def test_a_send_whose_worker_died_is_flagged_by_the_every_minute_sweep_once_its_lease_expired(fake_zoho,  # noqa: F811
                                                                                               approved):
    assert SCHEDULES["ensure_sent"] == ("every", 60)
    assert draft_send_claim(draft_id=approved.pk) is not None  # a worker claimed it, called Zoho, then was killed
    assert task_run_eagerly(ensure_sent) == {"requeued": [], "interrupted": []}  # its lease still runs
    now = timezone.now()
    Draft.objects.filter(pk=approved.pk).update(sending_started_at=now - timedelta(seconds=40),
                                                send_lease_expires_at=now - timedelta(seconds=1))
    before = _failed("interrupted")
    assert task_run_eagerly(ensure_sent) == {"requeued": [], "interrupted": [approved.pk]}
    assert _failed("interrupted") == before + 1
    assert Draft.objects.get(pk=approved.pk).last_send_error == INTERRUPTED_ERROR
    assert not fake_zoho.sent  # flagged for an agent, never re-sent by a machine
    assert list(drafts_send_failed_for_good().values_list("pk", flat=True)) == [approved.pk]


@pytest.mark.django_db
def test_a_send_that_has_run_for_long_under_a_live_lease_is_not_flagged(fake_zoho, approved):  # noqa: F811
    assert draft_send_claim(draft_id=approved.pk) is not None
    now = timezone.now()
    Draft.objects.filter(pk=approved.pk).update(sending_started_at=now - timedelta(minutes=20),
                                                send_lease_expires_at=now + timedelta(seconds=20))
    assert drafts_send_sweep().interrupted == []


@pytest.mark.django_db(transaction=True)
def test_a_slow_send_keeps_its_lease_by_heartbeat_so_it_is_neither_flagged_nor_released_for_a_second_send(
        settings, fake_zoho, agent_user):  # noqa: F811
    settings.WORK_LEASE_SECONDS = 3  # renewed every second
    settings.SEND_UNDO_SECONDS = 600  # the approval's own send waits: this test sends it itself
    inbound, _ = zoho_message_ingest(dict(fake_zoho.messages[MESSAGE_ID]))
    draft = make_draft(message=inbound, body="Hi Barbara,\nYes.\nThe Demo Shop team")
    draft_approve(draft_id=draft.pk, acting_user=agent_user)
    Draft.objects.filter(pk=draft.pk).update(send_after=timezone.now())
    fake_zoho.delay_seconds = 3.0  # the token refresh and the reply: about 6 s, twice the lease
    settings.ZOHO_TIMEOUT_SECONDS = 10.0
    outcome = {}

    def worker():
        try:
            outcome["send"] = task_run_eagerly(send_draft, draft.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        time.sleep(4.5)  # past the first lease
        assert drafts_send_sweep().interrupted == []
        with pytest.raises(StateConflict):
            draft_send_retry(draft_id=draft.pk, acting_user=agent_user)
    finally:
        thread.join(30)
    assert outcome["send"].startswith("sent") and len(fake_zoho.sent) == 1
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.SENT


@pytest.mark.django_db
def test_check_alerts_fires_for_failed_deliveries_of_every_source_and_for_a_reply_failed_for_good(
        fake_zoho, approved):  # noqa: F811
    WebhookDelivery.objects.create(source="shopify", topic="orders/updated", external_id="s1", body=b"{}",
                                   status="failed", attempts=1)
    WebhookDelivery.objects.create(source="shopify", topic="orders/updated", external_id="s2", body=b"{",
                                   status="failed", attempts=0)  # refused at the door: its sender was told 400
    assert {(a.name, a.value) for a in alerts_evaluate()} == {("WebhookDeliveriesFailing", 1)}
    assert "shopify" in alerts_evaluate()[0].summary
    fake_zoho.messages.pop(MESSAGE_ID)
    task_run_eagerly(send_draft, approved.pk)
    assert {a.name for a in alerts_evaluate()} == {"WebhookDeliveriesFailing", "ReplySendFailed"}
