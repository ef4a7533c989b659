"""The Zoho client against the fake Zoho over real HTTP."""

from __future__ import annotations

import threading

import pytest

from integrations.zoho.client import ZohoClient, ZohoError


def _message(n: int) -> dict:
    return {"messageId": 1_800_000_000_000_000_000 + n, "folderId": "big", "threadId": 9000 + n,
            "subject": f"Question {n}", "fromAddress": f"c{n}@example.com", "receivedTime": str(1764000000000 + n)}


def test_many_calls_from_two_threads_refresh_the_token_once(fake_zoho):
    client = ZohoClient.from_settings()
    errors = []

    def work():
        try:
            for _ in range(5):
                client.messages_list(folder_id="inbox")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert fake_zoho.token_refreshes == 1
    assert len([r for r in fake_zoho.requests if r[1].endswith("messages/view")]) == 10


def test_ids_come_back_as_strings_even_when_zoho_sends_numbers(fake_zoho):
    messages = ZohoClient.from_settings().messages_list(folder_id="inbox")
    assert {m.message_id for m in messages} == {"1732512000000100001", "1732512000000100002"}
    assert all(isinstance(m.thread_id, str) for m in messages)


def test_messages_are_listed_newest_first_like_zoho_unless_oldest_first_is_asked(fake_zoho):
    client = ZohoClient.from_settings()
    newest_first = [m.received_time_ms for m in client.messages_list(folder_id="inbox")]
    oldest_first = [m.received_time_ms for m in client.messages_list(folder_id="inbox", oldest_first=True)]
    assert newest_first == sorted(newest_first, reverse=True) and newest_first[0] > newest_first[-1]
    assert oldest_first == newest_first[::-1]


def test_reading_only_the_first_page_of_a_large_folder_makes_one_request(fake_zoho):
    for n in range(450):
        fake_zoho.add_message(_message(n))
    first = next(ZohoClient.from_settings().messages_iter(folder_id="big"))
    assert first.subject == "Question 449"  # the newest
    assert len([r for r in fake_zoho.requests if r[1].endswith("messages/view")]) == 1


def test_a_429_with_retry_after_is_waited_out_then_succeeds(fake_zoho):
    client = ZohoClient.from_settings()
    client.access_token()
    fake_zoho.fail_next(429, times=2, retry_after=0.05)
    assert len(client.messages_list(folder_id="inbox")) == 2
    assert len([r for r in fake_zoho.requests if r[1].endswith("messages/view")]) == 3


def test_a_429_during_the_token_refresh_is_retried_too(fake_zoho):
    fake_zoho.fail_next(429, times=1)
    assert ZohoClient.from_settings().message_content(folder_id="inbox", message_id="1732512000000100001")


def test_a_5xx_then_success(fake_zoho):
    fake_zoho.fail_next(500, times=2)
    assert ZohoClient.from_settings().messages_list(folder_id="inbox")


def test_a_zoho_lock_answer_is_retried_not_treated_as_permanent(fake_zoho, settings):
    settings.ZOHO_MAX_RETRY_AFTER_SECONDS = 0.05
    client = ZohoClient.from_settings()
    client.access_token()
    fake_zoho.fail_next(400, body={"status": {"code": 400, "description": "Too many requests, account locked"}})
    assert client.messages_list(folder_id="inbox")


def test_a_timeout_is_retried_then_raised(fake_zoho, settings):
    settings.ZOHO_TIMEOUT_SECONDS = 0.2
    settings.ZOHO_MAX_ATTEMPTS = 2
    client = ZohoClient.from_settings()
    client.access_token()
    fake_zoho.delay_seconds = 0.5
    with pytest.raises(Exception, match="timed out"):
        client.messages_list(folder_id="inbox")
    assert len([r for r in fake_zoho.requests if r[1].endswith("messages/view")]) == 2


def test_a_4xx_is_permanent_and_not_retried(fake_zoho):
    with pytest.raises(ZohoError) as raised:
        ZohoClient.from_settings().message_content(folder_id="inbox", message_id="404404")
    assert raised.value.status == 404 and raised.value.permanent
    assert len([r for r in fake_zoho.requests if "404404" in r[1]]) == 1


def test_an_expired_token_is_refreshed_once_and_the_call_succeeds(fake_zoho):
    client = ZohoClient.from_settings()
    client.access_token()
    fake_zoho.valid_tokens.clear()  # Zoho revoked or expired it
    assert client.messages_list(folder_id="inbox")
    assert fake_zoho.token_refreshes == 2


def test_a_folder_of_450_messages_is_read_in_three_pages(fake_zoho):
    for n in range(450):
        fake_zoho.add_message(_message(n))
    messages = list(ZohoClient.from_settings().messages_iter(folder_id="big"))
    assert len(messages) == 450 and len({m.message_id for m in messages}) == 450
    assert len([r for r in fake_zoho.requests if r[1].endswith("messages/view")]) == 3


def test_messages_deleted_while_paging_do_not_make_a_later_one_skipped(fake_zoho):
    for n in range(30):
        fake_zoho.add_message(_message(n))
    listing = ZohoClient.from_settings().messages_iter(folder_id="big", limit=10)
    first_page = [next(listing) for _ in range(10)]
    for message in first_page[:3]:  # deleted in the mailbox before the second page is asked for
        del fake_zoho.messages[message.message_id]
    rest = list(listing)
    ids = [m.message_id for m in first_page + rest]
    assert len(ids) == len(set(ids)) == 30  # without the overlap, three would have slipped past a page boundary


def _posts(fake_zoho) -> list[str]:
    return [path for method, path in fake_zoho.requests if method == "POST" and "/messages/" in path]


def _reply(client: ZohoClient) -> str:
    return client.message_reply(message_id="1732512000000100001", from_address="support@demo-shop.example",
                                to_address="barbara.liskov@example.com", subject="Re: Sleeping bag", content="Yes.")


def test_a_5xx_on_a_reply_is_not_repeated_because_zoho_may_have_sent_it(fake_zoho):
    client = ZohoClient.from_settings()
    client.access_token()
    fake_zoho.fail_next(503, times=1)
    with pytest.raises(ZohoError) as raised:
        _reply(client)
    assert len(_posts(fake_zoho)) == 1  # exactly one POST reached Zoho
    assert raised.value.status == 503 and not raised.value.permanent and raised.value.maybe_sent


def _read_timeout(fake_zoho, settings, call) -> ZohoError:
    """`call(client)` answered too late (Zoho carried it out, the client stopped waiting): the error raised."""
    settings.ZOHO_TIMEOUT_SECONDS = 0.2
    client = ZohoClient.from_settings()
    client.access_token()
    fake_zoho.delay_seconds = 0.5
    with pytest.raises(ZohoError, match="may have been carried out") as raised:
        call(client)
    fake_zoho.delay_seconds = 0
    return raised.value


def test_a_read_timeout_on_a_reply_is_not_repeated(fake_zoho, settings):
    error = _read_timeout(fake_zoho, settings, _reply)
    assert not error.permanent and error.maybe_sent
    assert len(_posts(fake_zoho)) == 1


def test_a_429_on_a_reply_is_retried_because_zoho_refused_it(fake_zoho):
    client = ZohoClient.from_settings()
    client.access_token()
    fake_zoho.fail_next(429, times=1, retry_after=0.05)
    assert _reply(client) == fake_zoho.sent[0]["messageId"]
    assert len(_posts(fake_zoho)) == 2 and len(fake_zoho.sent) == 1


def test_a_reply_that_cannot_connect_is_known_unsent_and_not_reported_as_maybe_sent(fake_zoho, settings):
    """Connection refused: the request never left, so it is safe to repeat (the client retries it)."""
    import socket

    import requests

    from integrations.zoho.client import never_connected

    settings.ZOHO_MAX_ATTEMPTS = 3
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    client = ZohoClient(accounts_url=fake_zoho.url, mail_url=f"http://127.0.0.1:{closed_port}", client_id="c",
                        client_secret="s", refresh_token=settings.ZOHO_REFRESH_TOKEN, account_id="1")
    with pytest.raises(requests.ConnectionError) as raised:
        _reply(client)
    assert never_connected(raised.value)
    assert fake_zoho.token_refreshes == 1  # the token was fetched once, the three tries reused it


def test_a_retry_after_given_as_an_http_date_is_waited_out(fake_zoho):
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    client = ZohoClient.from_settings()
    client.access_token()
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=1), usegmt=True)  # "Tue, 25 Nov 2026 10:00:01 GMT"
    fake_zoho.fail_next(429, times=1, retry_after=soon)
    assert client.messages_list(folder_id="inbox")
    assert len([r for r in fake_zoho.requests if r[1].endswith("messages/view")]) == 2


# --- sending a new email (POST messages) and the raw MIME (GET …/originalmessage) ------------------

def _send(client: ZohoClient, **extra):
    return client.message_send(from_address="support@demo-shop.example", to_address="ada@example.com",
                               subject="Your order has shipped", content="<p>On its way.</p>", **extra)


def _sends(fake_zoho) -> list[str]:
    return [path for method, path in fake_zoho.requests if method == "POST" and path.endswith("/messages")]


def test_a_new_email_is_sent_with_the_documented_fields_and_its_ids_come_back(fake_zoho):
    sent = _send(ZohoClient.from_settings(), mail_format="html", cc_address="bob@example.com")
    [posted] = fake_zoho.sent
    assert sent.message_id == posted["messageId"] and sent.mail_id == f"<{posted['messageId']}@fake.zoho>"
    assert sent.subject == "Your order has shipped"
    assert {k: posted[k] for k in ("fromAddress", "toAddress", "ccAddress", "subject", "content", "mailFormat")} == {
        "fromAddress": "support@demo-shop.example", "toAddress": "ada@example.com", "ccAddress": "bob@example.com",
        "subject": "Your order has shipped", "content": "<p>On its way.</p>", "mailFormat": "html"}
    assert "action" not in posted and "bccAddress" not in posted  # a new email, not a reply; no empty fields


def test_bad_arguments_to_send_are_refused_before_any_request(fake_zoho):
    client = ZohoClient.from_settings()
    with pytest.raises(ValueError, match="to_address must be an email address"):
        client.message_send(from_address="support@demo-shop.example", to_address="", subject="s", content="c")
    with pytest.raises(ValueError, match="mail_format must be one of"):
        _send(client, mail_format="markdown")
    assert fake_zoho.requests == []


def test_a_send_zoho_rejects_is_a_permanent_error_with_its_reason(fake_zoho):
    client = ZohoClient.from_settings()
    client.access_token()
    fake_zoho.fail_next(400, body={"status": {"code": 400, "description": "Invalid Input"}, "data": {}})
    with pytest.raises(ZohoError, match="Invalid Input") as raised:
        _send(client)
    assert raised.value.permanent and raised.value.status == 400 and len(_sends(fake_zoho)) == 1


def test_a_5xx_on_a_send_is_not_repeated_because_zoho_may_have_sent_it(fake_zoho):
    client = ZohoClient.from_settings()
    client.access_token()
    fake_zoho.fail_next(502, times=1)
    with pytest.raises(ZohoError) as raised:
        _send(client)
    assert raised.value.maybe_sent and not raised.value.permanent and raised.value.status == 502
    assert len(_sends(fake_zoho)) == 1 and fake_zoho.sent == []


def test_a_read_timeout_on_a_send_is_not_repeated(fake_zoho, settings):
    error = _read_timeout(fake_zoho, settings, _send)
    assert error.maybe_sent and len(_sends(fake_zoho)) == 1


def test_a_429_on_a_send_is_retried_because_zoho_refused_it(fake_zoho):
    client = ZohoClient.from_settings()
    client.access_token()
    fake_zoho.fail_next(429, times=1, retry_after=0.05)
    assert _send(client).message_id == fake_zoho.sent[0]["messageId"]
    assert len(_sends(fake_zoho)) == 2 and len(fake_zoho.sent) == 1


def test_the_original_message_is_the_mime_source_and_parses(fake_zoho):
    fake_zoho.add_message({"messageId": 1764100000000500001, "folderId": "inbox", "threadId": 5001,
                           "subject": "Re: Stove", "fromAddress": "grace@example.com",
                           "toAddress": "support@demo-shop.example", "receivedTime": "1764100000000",
                           "_headers": {"Message-ID": "<b@example.com>", "In-Reply-To": "<a@example.com>"}},
                          content="<p>Any news?</p>")
    original = ZohoClient.from_settings().message_original(message_id="1764100000000500001")
    assert original.message_id == "1764100000000500001"
    parsed = original.parsed()
    assert (parsed["From"], parsed["Subject"], parsed["Message-ID"], parsed["In-Reply-To"]) == (
        "grace@example.com", "Re: Stove", "<b@example.com>", "<a@example.com>")
    assert "<p>Any news?</p>" in parsed.get_body(preferencelist=("html",)).get_content()


def test_the_original_message_is_returned_byte_for_byte_as_zoho_stored_it(fake_zoho):
    raw = ("Received: from mx.example.com by mx.zoho.com\r\nFrom: \"Ada\" <ada@example.com>\r\n"
           "Subject: =?UTF-8?B?w4ljaGFycGU=?=\r\nMessage-ID: <c@example.com>\r\n\r\nBody\r\n")
    fake_zoho.add_message({"messageId": 1764100000000500002, "folderId": "inbox", "fromAddress": "ada@example.com",
                           "receivedTime": "1764100000001"}, original=raw)
    original = ZohoClient.from_settings().message_original(message_id="1764100000000500002")
    assert original.mime == raw and original.parsed()["Subject"] == "\u00c9charpe"


def test_the_original_message_is_retried_on_a_5xx_like_every_read(fake_zoho):
    client = ZohoClient.from_settings()
    client.access_token()
    fake_zoho.fail_next(503, times=2)
    assert client.message_original(message_id="1732512000000100001").mime
    assert len([p for _, p in fake_zoho.requests if p.endswith("/originalmessage")]) == 3


def test_the_original_of_an_unknown_message_is_a_permanent_404(fake_zoho):
    with pytest.raises(ZohoError) as raised:
        ZohoClient.from_settings().message_original(message_id="404404")
    assert raised.value.status == 404 and raised.value.permanent


def test_message_headers_reads_zohos_raw_header_block_first_of_each(fake_zoho):
    """Zoho answers `headerContent` as the raw header text unless `raw=false`
    (https://www.zoho.com/mail/help/api/get-email-header.html): folded lines unfolded, encoded words
    decoded, the topmost of a repeated header kept."""
    fake_zoho.add_message({"messageId": 1764100000000500003, "folderId": "inbox", "fromAddress": "ada@example.com",
                           "receivedTime": "1764100000002",
                           "_headers": {"Received": "from mx2.example.com by mx.zoho.com\r\n"
                                                    "Received: from mail.example.com by mx2.example.com",
                                        "Subject": "=?UTF-8?Q?R=C3=A9ponse_automatique?=",
                                        "Content-Type": "multipart/report;\r\n\treport-type=delivery-status;"
                                                        " boundary=\"x\"",
                                        "Auto-Submitted": "auto-replied"}},
                          content="<p>x</p>")
    headers = ZohoClient.from_settings().message_headers(folder_id="inbox", message_id="1764100000000500003")
    assert headers["Subject"] == "Réponse automatique" and headers["Auto-Submitted"] == "auto-replied"
    assert headers["Received"] == "from mx2.example.com by mx.zoho.com"
    assert headers["Content-Type"] == 'multipart/report; report-type="delivery-status"; boundary="x"'
