"""`zoho_sync` against the fake Zoho over real HTTP, on Postgres: newest-first paging that stops
at the checkpoint, and a crash in the middle of a run that the next run resumes from."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from conversations.models import Message
from integrations.models import ZohoSyncState
from omnichannel.models import WebhookDelivery

pytestmark = pytest.mark.django_db
BASE_ID, BASE_TIME = 1_800_000_000_000_000_000, 1764000000000


def _message(n: int) -> dict:
    # Fields as listed by GET messages/view (https://www.zoho.com/mail/help/api/get-emails-list.html).
    return {"messageId": BASE_ID + n, "folderId": "big", "threadId": 9000 + n, "subject": f"Question {n}",
            "fromAddress": f"c{n}@example.com", "toAddress": "support@demo-shop.example",
            "receivedTime": str(BASE_TIME + n * 1000), "hasAttachment": "0"}


def _add(fake_zoho, numbers) -> None:
    for n in numbers:
        fake_zoho.add_message(_message(n), content=f"<p>Question number {n}</p>")


def _ids(numbers) -> set[str]:
    return {str(BASE_ID + n) for n in numbers}


def _requests_since(fake_zoho, mark: int, suffix: str) -> list[str]:
    return [path for _, path in fake_zoho.requests[mark:] if path.endswith(suffix)]


def _stored_ids() -> list[str]:
    return list(Message.objects.filter(external_msg_id__startswith="18").values_list("external_msg_id", flat=True))


def _checkpoint() -> datetime | None:
    return ZohoSyncState.objects.get(folder_id="big").last_received_at


def _at(n: int) -> datetime:
    return datetime.fromtimestamp((BASE_TIME + n * 1000) / 1000, tz=UTC)


@pytest.mark.slow  # ingests 450 messages (about 30 s on a busy 2-core machine)
def test_with_450_synced_and_3_new_a_run_makes_one_list_request(fake_zoho, settings):
    _add(fake_zoho, range(450))
    # The first run crashes listing page 2: all is listed before anything is stored, so nothing is.
    settings.ZOHO_MAX_ATTEMPTS = 1
    fake_zoho.fail_nth(2, 503, path_contains="messages/view")
    with pytest.raises(CommandError, match="503"):
        call_command("zoho_sync", "--folder", "big")
    assert _stored_ids() == [] and _checkpoint() is None
    mark = len(fake_zoho.requests)
    call_command("zoho_sync", "--folder", "big")
    assert len(_requests_since(fake_zoho, mark, "messages/view")) == 3  # the first run reads the whole folder
    assert set(_stored_ids()) == _ids(range(450)) and _checkpoint() == _at(449)

    _add(fake_zoho, range(450, 453))
    mark = len(fake_zoho.requests)
    call_command("zoho_sync", "--folder", "big")
    assert len(_requests_since(fake_zoho, mark, "messages/view")) == 1
    fetched = {path.split("/")[-2] for path in _requests_since(fake_zoho, mark, "/content")}
    assert fetched == _ids(range(450, 453))  # content only for the 3 new ones, once each
    assert len(_requests_since(fake_zoho, mark, "/content")) == 3
    assert sorted(_stored_ids()) == sorted(_ids(range(453))) and _checkpoint() == _at(452)


def test_a_run_with_nothing_new_makes_one_list_request_and_ingests_nothing(fake_zoho):
    _add(fake_zoho, range(5))
    call_command("zoho_sync", "--folder", "big")
    mark = len(fake_zoho.requests)
    call_command("zoho_sync", "--folder", "big")
    assert [p for _, p in fake_zoho.requests[mark:]] == [
        "/api/accounts/1/folders", "/api/accounts/1/messages/view"]
    assert len(_stored_ids()) == 5


@pytest.mark.parametrize("path", ["/content", "/header"])
def test_a_crash_in_the_middle_then_a_rerun_ingests_all_without_duplicates_or_gaps(fake_zoho, settings, path):
    _add(fake_zoho, range(5))
    call_command("zoho_sync", "--folder", "big")
    _add(fake_zoho, range(5, 25))
    settings.ZOHO_MAX_ATTEMPTS = 1  # no retry: the injected 503 ends the run
    fake_zoho.fail_nth(10, 503, path_contains=path)  # while ingesting the 10th new message
    with pytest.raises(CommandError, match="503"):
        call_command("zoho_sync", "--folder", "big")
    assert set(_stored_ids()) == _ids(range(5 + 9))
    # The checkpoint is the newest stored message, not the newest listed one: the rerun resumes there.
    assert _checkpoint() == _at(13)
    failed = WebhookDelivery.objects.get(external_id=str(BASE_ID + 14))
    assert failed.status == "failed" and "503" in failed.last_error  # recorded, not lost

    mark = len(fake_zoho.requests)
    call_command("zoho_sync", "--folder", "big")
    stored = _stored_ids()
    assert len(stored) == len(set(stored)) == 25 and set(stored) == _ids(range(25))
    assert _checkpoint() == _at(24)
    assert len(_requests_since(fake_zoho, mark, "messages/view")) == 1
    # Only the 11 not yet stored were fetched (the failed one again); nothing stored was fetched twice.
    assert {p.split("/")[-2] for p in _requests_since(fake_zoho, mark, "/content")} == _ids(range(14, 25))
    poll = WebhookDelivery.objects.filter(source="zoho", topic="poll")
    assert poll.count() == 25 and set(poll.values_list("status", flat=True)) == {"processed"}


def test_a_message_received_in_the_same_millisecond_as_the_checkpoint_is_not_skipped(fake_zoho):
    _add(fake_zoho, range(3))
    call_command("zoho_sync", "--folder", "big")
    fake_zoho.add_message({**_message(2), "messageId": BASE_ID + 999, "subject": "Same instant"}, content="<p>Hi</p>")
    call_command("zoho_sync", "--folder", "big")
    assert set(_stored_ids()) == _ids([0, 1, 2, 999])


def test_since_before_the_checkpoint_rereads_old_mail_without_moving_the_checkpoint_back(fake_zoho):
    _add(fake_zoho, range(10))
    call_command("zoho_sync", "--folder", "big")
    mark = len(fake_zoho.requests)
    call_command("zoho_sync", "--folder", "big", "--since", _at(4).isoformat())
    assert len(_requests_since(fake_zoho, mark, "messages/view")) == 1
    assert _requests_since(fake_zoho, mark, "/content") == []  # all already stored: nothing fetched
    assert _checkpoint() == _at(9)


def test_a_webhook_delivery_that_failed_is_processed_by_the_next_poll(fake_zoho, settings):
    """The webhook stored the message but Zoho was down when it was processed: the poll retries it."""
    from integrations.zoho.tasks import process_incoming_email
    from omnichannel.webhook_deliveries import webhook_delivery_store

    _add(fake_zoho, range(2))
    delivery, _ = webhook_delivery_store(source="zoho", topic="webhook", external_id=str(BASE_ID + 1), headers={},
                                         body=json.dumps(_message(1)).encode())
    settings.ZOHO_MAX_ATTEMPTS = 1
    fake_zoho.fail_next(503, times=1)  # the token refresh fails: the webhook's processing cannot fetch anything
    with pytest.raises(Exception, match="503"):
        process_incoming_email(delivery.pk)
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == "failed"
    call_command("zoho_sync", "--folder", "big")
    assert set(_stored_ids()) == _ids(range(2))
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == "processed"
