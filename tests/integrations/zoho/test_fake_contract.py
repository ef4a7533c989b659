"""The fake Zoho's HTTP contract, as a client sees it over a real connection: the token endpoint,
every Mail API route it serves, their `{status, data}` envelopes, paging and order, the raw bodies
of attachments, the 400/401/404/501 paths and the injected failures (with Retry-After). The fake
stands in for Zoho in every other test, the benches and `make run`: whatever its code looks like,
these answers must not change."""

from __future__ import annotations

import email

import pytest
import requests

from integrations.zoho.fake import FakeZoho

ACCOUNT = "/api/accounts/6000123"
THREAD = 1764000000000555000


def _message(n: int, *, folder: str = "inbox", thread: int = THREAD, received: int = 0) -> dict:
    return {"messageId": 1764000000000555000 + n, "folderId": folder, "threadId": thread,
            "subject": f"Re: where is my order #10{n:02d}?", "fromAddress": f"walker{n}@trailmail.example",
            "toAddress": "&lt;support@demo-shop.example&gt;", "summary": f"Hello, order #10{n:02d} has not arrived",
            "receivedTime": str(1764061200000 + received)}


def _mailbox() -> dict:
    messages = [_message(1, received=3000), _message(2, received=1000), _message(3, received=2000, thread=77),
                _message(4, folder="archive", received=500)]
    return {
        "messages": messages,
        "contents": {str(messages[0]["messageId"]): "<p>Hello, my order <b>#1001</b> has not arrived.</p>"},
        "attachments": {str(messages[0]["messageId"]): [
            {"attachmentId": 139301194963480041, "attachmentName": "receipt.pdf", "attachmentSize": 9,
             "content": "%PDF-1.7\n", "contentType": "application/pdf"},
            {"attachmentId": 139301194963480042, "attachmentName": "photo.jpg", "attachmentSize": 4,
             "content": "JPEG"}]},
        "originals": {str(messages[1]["messageId"]): "From: walker2@trailmail.example\r\nSubject: hi\r\n\r\nhi\r\n"},
    }


M1, M2, M3 = (str(1764000000000555000 + n) for n in (1, 2, 3))


@pytest.fixture
def zoho():
    fake = FakeZoho(_mailbox(), token_ttl=1800)
    yield fake
    fake.close()


def _token(zoho: FakeZoho) -> str:
    r = requests.post(f"{zoho.url}/oauth/v2/token", data={
        "grant_type": "refresh_token", "refresh_token": "1000.8f1c.refresh", "client_id": "1000.ABC",
        "client_secret": "s3cret"}, timeout=5)
    assert r.status_code == 200
    return r.json()["access_token"]


@pytest.fixture
def auth(zoho) -> dict:
    return {"Authorization": f"Zoho-oauthtoken {_token(zoho)}"}


def _ok_data(r: requests.Response):
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["status"] == {"code": 200, "description": "success"}
    return body["data"]


def test_a_refresh_token_buys_an_access_token(zoho):
    r = requests.post(f"{zoho.url}/oauth/v2/token",
                      data={"grant_type": "refresh_token", "refresh_token": "1000.8f1c.refresh"}, timeout=5)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "api_domain", "token_type", "expires_in"}
    assert body["access_token"].startswith("1000.fake1.")
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1800
    assert body["api_domain"] == "https://www.zohoapis.com"
    assert zoho.token_refreshes == 1 and body["access_token"] in zoho.valid_tokens
    assert _token(zoho).startswith("1000.fake2.")


@pytest.mark.parametrize("form", [
    {"grant_type": "authorization_code", "code": "1000.abc"},
    {"grant_type": "refresh_token"},
    {},
])
def test_a_token_request_without_a_refresh_token_is_refused(zoho, form):
    r = requests.post(f"{zoho.url}/oauth/v2/token", data=form, timeout=5)
    assert r.status_code == 400 and r.json() == {"error": "invalid_code"}
    assert zoho.token_refreshes == 0


def test_the_mail_api_wants_a_token_it_issued(zoho):
    for headers in ({}, {"Authorization": "Zoho-oauthtoken 1000.forged.1"}, {"Authorization": "Bearer x"}):
        r = requests.get(f"{zoho.url}{ACCOUNT}/folders", headers=headers, timeout=5)
        assert r.status_code == 401
        assert r.json() == {"status": {"code": 401, "description": "Invalid OAuth token"}, "data": {}}
    r = requests.get(f"{zoho.url}/oauth/v2/token", timeout=5)  # the token endpoint takes POST only
    assert r.status_code == 401


def test_unknown_paths_and_methods(zoho, auth):
    r = requests.get(f"{zoho.url}/api/folders", headers=auth, timeout=5)
    assert r.status_code == 404 and r.json() == {"status": {"code": 404, "description": "Not found"}, "data": {}}
    for method, path in (("GET", "labels"), ("GET", "messages"), ("POST", "folders")):
        r = requests.request(method, f"{zoho.url}{ACCOUNT}/{path}", headers=auth, timeout=5)
        assert r.status_code == 404
        assert r.json() == {"status": {"code": 404, "description": "Unknown endpoint"}, "data": {}}
    r = requests.put(f"{zoho.url}{ACCOUNT}/messages/{M1}", headers=auth, json={}, timeout=5)
    assert r.status_code == 501  # no such verb at all: the HTTP server's own answer
    assert ("PUT", f"{ACCOUNT}/messages/{M1}") not in zoho.requests


def test_a_folder_lists_newest_first_in_pages(zoho, auth):
    url = f"{zoho.url}{ACCOUNT}/messages/view"
    rows = _ok_data(requests.get(url, headers=auth, params={"folderId": "inbox"}, timeout=5))
    assert [str(m["messageId"]) for m in rows] == [M1, M3, M2]
    assert rows[0]["subject"] == "Re: where is my order #1001?"
    rows = _ok_data(requests.get(url, headers=auth, params={"folderId": "inbox", "sortorder": "true"}, timeout=5))
    assert [str(m["messageId"]) for m in rows] == [M2, M3, M1]
    page = _ok_data(requests.get(url, headers=auth, params={"folderId": "inbox", "start": 2, "limit": 1}, timeout=5))
    assert [str(m["messageId"]) for m in page] == [M3]
    past = _ok_data(requests.get(url, headers=auth, params={"folderId": "inbox", "start": 4}, timeout=5))
    assert past == []
    thread = _ok_data(requests.get(url, headers=auth, params={"folderId": "inbox", "threadId": THREAD}, timeout=5))
    assert [str(m["messageId"]) for m in thread] == [M1, M2]
    assert _ok_data(requests.get(url, headers=auth, params={"folderId": "spam"}, timeout=5)) == []


def test_the_default_page_is_ten_and_at_most_200(zoho, auth):
    for n in range(10, 22):
        zoho.add_message(_message(n, received=10 + n))
    url = f"{zoho.url}{ACCOUNT}/messages/view"
    assert len(_ok_data(requests.get(url, headers=auth, params={"folderId": "inbox"}, timeout=5))) == 10
    r = requests.get(url, headers=auth, params={"folderId": "inbox", "limit": 201}, timeout=5)
    assert r.status_code == 400
    assert r.json() == {"status": {"code": 400, "description": "limit exceeds 200"}, "data": {}}
    assert len(_ok_data(requests.get(url, headers=auth, params={"folderId": "inbox", "limit": 200}, timeout=5))) == 15


def test_the_folders(zoho, auth):
    folders = _ok_data(requests.get(f"{zoho.url}{ACCOUNT}/folders", headers=auth, timeout=5))
    assert folders == [{"folderId": "archive", "folderName": "Archive", "path": "/Archive"},
                       {"folderId": "inbox", "folderName": "Inbox", "path": "/Inbox"}]
    empty = FakeZoho({"messages": []})
    try:
        r = requests.get(f"{empty.url}{ACCOUNT}/folders", headers={"Authorization": f"Zoho-oauthtoken {_token(empty)}"},
                         timeout=5)
        assert _ok_data(r) == [{"folderId": "inbox", "folderName": "Inbox", "path": "/Inbox"}]
    finally:
        empty.close()


def test_content_and_headers_of_a_message(zoho, auth):
    base = f"{zoho.url}{ACCOUNT}/folders/inbox/messages"
    assert _ok_data(requests.get(f"{base}/{M1}/content", headers=auth, timeout=5)) == {
        "messageId": M1, "content": "<p>Hello, my order <b>#1001</b> has not arrived.</p>"}
    assert _ok_data(requests.get(f"{base}/{M2}/content", headers=auth, timeout=5)) == {"messageId": M2, "content": ""}
    zoho.messages[M1]["_headers"] = {"Message-ID": "<CAB7@mail.trailmail.example>", "In-Reply-To": "<a1@demo>"}
    raw = _ok_data(requests.get(f"{base}/{M1}/header", headers=auth, timeout=5))
    assert raw == {"headerContent": "Message-ID: <CAB7@mail.trailmail.example>\r\nIn-Reply-To: <a1@demo>\r\n"}
    parsed = _ok_data(requests.get(f"{base}/{M1}/header", headers=auth, params={"raw": "false"}, timeout=5))
    assert parsed == {"headerContent": {"Message-ID": "<CAB7@mail.trailmail.example>", "In-Reply-To": "<a1@demo>"}}
    r = requests.get(f"{base}/999/content", headers=auth, timeout=5)
    assert r.status_code == 404
    assert r.json() == {"status": {"code": 404, "description": "Message not found"}, "data": {}}


def test_attachments_are_listed_and_downloaded_raw(zoho, auth):
    base = f"{zoho.url}{ACCOUNT}/folders/inbox/messages/{M1}"
    info = _ok_data(requests.get(f"{base}/attachmentinfo", headers=auth, timeout=5))
    assert info == {"messageId": M1, "attachments": [
        {"attachmentId": 139301194963480041, "attachmentName": "receipt.pdf", "attachmentSize": 9},
        {"attachmentId": 139301194963480042, "attachmentName": "photo.jpg", "attachmentSize": 4}]}
    r = requests.get(f"{base}/attachments/139301194963480041", headers=auth, timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/pdf" and r.content == b"%PDF-1.7\n"
    r = requests.get(f"{base}/attachments/139301194963480042", headers=auth, timeout=5)
    assert r.headers["Content-Type"] == "application/octet-stream" and r.content == b"JPEG"
    r = requests.get(f"{base}/attachments/1", headers=auth, timeout=5)
    assert r.status_code == 404 and r.json() == {"status": {"code": 404, "description": "No attachment"}, "data": {}}
    no_atts = f"{zoho.url}{ACCOUNT}/folders/inbox/messages/{M2}/attachmentinfo"
    assert _ok_data(requests.get(no_atts, headers=auth, timeout=5)) == {"messageId": M2, "attachments": []}


def test_the_original_message_given_or_built(zoho, auth):
    given = _ok_data(requests.get(f"{zoho.url}{ACCOUNT}/messages/{M2}/originalmessage", headers=auth, timeout=5))
    assert given == {"messageId": M2, "content": "From: walker2@trailmail.example\r\nSubject: hi\r\n\r\nhi\r\n"}
    zoho.messages[M1]["_headers"] = {"Message-ID": "<CAB7@mail.trailmail.example>", "References": "<a0@demo>"}
    built = _ok_data(requests.get(f"{zoho.url}{ACCOUNT}/messages/{M1}/originalmessage", headers=auth, timeout=5))
    mime = email.message_from_string(built["content"])
    assert mime["From"] == "walker1@trailmail.example" and mime["Subject"] == "Re: where is my order #1001?"
    assert mime["Message-ID"] == "<CAB7@mail.trailmail.example>" and mime["References"] == "<a0@demo>"
    assert mime["In-Reply-To"] is None and mime.get_content_type() == "text/html"
    assert "#1001" in mime.get_payload(decode=True).decode()
    r = requests.get(f"{zoho.url}{ACCOUNT}/messages/42/originalmessage", headers=auth, timeout=5)
    assert r.status_code == 404 and r.json()["status"] == {"code": 404, "description": "Message not found"}


def test_a_new_email_is_sent(zoho, auth):
    payload = {"fromAddress": "support@demo-shop.example", "toAddress": "walker9@trailmail.example",
               "subject": "Your return label", "content": "<p>Here it is</p>", "mailFormat": "html"}
    data = _ok_data(requests.post(f"{zoho.url}{ACCOUNT}/messages", headers=auth, json=payload, timeout=5))
    assert data == {"messageId": "1900000000000000001", "mailId": "<1900000000000000001@fake.zoho>",
                    "subject": "Your return label", "fromAddress": "support@demo-shop.example",
                    "toAddress": "walker9@trailmail.example", "ccAddress": "", "bccAddress": "",
                    "content": "<p>Here it is</p>", "mailFormat": "html"}
    assert zoho.sent == [{**payload, "messageId": "1900000000000000001", "inReplyTo": None}]
    r = requests.post(f"{zoho.url}{ACCOUNT}/messages", headers=auth, json={"fromAddress": "a@b.example"}, timeout=5)
    assert r.status_code == 400
    assert r.json() == {"status": {"code": 400, "description": "Invalid Input"},
                        "data": {"moreInfo": "fromAddress and toAddress are required"}}
    assert len(zoho.sent) == 1


def test_a_reply_to_a_known_message(zoho, auth):
    payload = {"action": "reply", "fromAddress": "support@demo-shop.example", "toAddress": "walker1@trailmail.example",
               "subject": "Re: where is my order #1001?", "content": "<p>It ships today.</p>", "mailFormat": "html"}
    data = _ok_data(requests.post(f"{zoho.url}{ACCOUNT}/messages/{M1}", headers=auth, json=payload, timeout=5))
    assert data == {"messageId": "1900000000000000001", "subject": payload["subject"],
                    "fromAddress": payload["fromAddress"], "toAddress": payload["toAddress"],
                    "content": payload["content"], "mailFormat": "html"}
    assert zoho.sent == [{**payload, "messageId": "1900000000000000001", "inReplyTo": M1, "threadId": THREAD}]
    for body, target in (({**payload, "action": "forward"}, M1), (payload, "12345")):
        r = requests.post(f"{zoho.url}{ACCOUNT}/messages/{target}", headers=auth, json=body, timeout=5)
        assert r.status_code == 400
        assert r.json() == {"status": {"code": 400, "description": "Invalid input"}, "data": {}}
    assert len(zoho.sent) == 1


def test_a_reply_to_a_message_found_by_the_lookup():
    asked = []

    def lookup(message_id: str) -> dict | None:
        asked.append(message_id)
        return {"messageId": message_id, "threadId": "t-55"} if message_id == "5550001" else None

    zoho = FakeZoho({"messages": []}, message_lookup=lookup)
    try:
        auth = {"Authorization": f"Zoho-oauthtoken {_token(zoho)}"}
        r = requests.post(f"{zoho.url}{ACCOUNT}/messages/5550001", headers=auth,
                          json={"action": "reply", "content": "Thanks!"}, timeout=5)
        assert _ok_data(r)["content"] == "Thanks!"
        assert zoho.sent[0]["threadId"] == "t-55" and zoho.sent[0]["inReplyTo"] == "5550001"
        r = requests.post(f"{zoho.url}{ACCOUNT}/messages/5550002", headers=auth,
                          json={"action": "reply", "content": "Thanks!"}, timeout=5)
        assert r.status_code == 400
        assert asked == ["5550001", "5550002"]
    finally:
        zoho.close()


def test_injected_failures_come_first_with_retry_after_and_body(zoho, auth):
    zoho.fail_next(429, retry_after=30)
    zoho.fail_next(500, times=2)
    zoho.fail_next(400, body={"status": {"code": 400, "description": "Invalid Input"}, "data": {"errorCode": "X"}})
    r = requests.get(f"{zoho.url}{ACCOUNT}/folders", timeout=5)  # before the token check
    assert r.status_code == 429 and r.headers["Retry-After"] == "30"
    assert r.json() == {"status": {"code": 429, "description": "failure"}, "data": {"moreInfo": "injected"}}
    for _ in range(2):
        r = requests.post(f"{zoho.url}/oauth/v2/token", data={"grant_type": "refresh_token", "refresh_token": "r"},
                          timeout=5)
        assert r.status_code == 500 and "Retry-After" not in r.headers
    r = requests.get(f"{zoho.url}{ACCOUNT}/folders", headers=auth, timeout=5)
    assert r.status_code == 400 and r.json()["data"] == {"errorCode": "X"}
    assert requests.get(f"{zoho.url}{ACCOUNT}/folders", headers=auth, timeout=5).status_code == 200
    assert zoho.failures == []


def test_a_failure_for_the_nth_matching_request(zoho, auth):
    zoho.fail_nth(2, 503, path_contains="/messages/view", retry_after=1.5)
    view = f"{zoho.url}{ACCOUNT}/messages/view"
    assert requests.get(f"{zoho.url}{ACCOUNT}/folders", headers=auth, timeout=5).status_code == 200
    assert requests.get(view, headers=auth, params={"folderId": "inbox"}, timeout=5).status_code == 200
    r = requests.get(view, headers=auth, params={"folderId": "inbox"}, timeout=5)
    assert r.status_code == 503 and r.headers["Retry-After"] == "1.5"
    assert requests.get(view, headers=auth, params={"folderId": "inbox"}, timeout=5).status_code == 200
    assert zoho.nth_failures == []


def test_a_slow_zoho_and_the_request_log(zoho, auth):
    zoho.delay_seconds = 0.5
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{zoho.url}{ACCOUNT}/folders", headers=auth, timeout=0.1)
    zoho.delay_seconds = 0.0
    assert zoho.requests == [("POST", "/oauth/v2/token"), ("GET", f"{ACCOUNT}/folders")]


def test_the_fixture_mailbox_is_served_by_default():
    zoho = FakeZoho()
    try:
        auth = {"Authorization": f"Zoho-oauthtoken {_token(zoho)}"}
        rows = _ok_data(requests.get(f"{zoho.url}{ACCOUNT}/messages/view", headers=auth,
                                     params={"folderId": "inbox", "limit": 50}, timeout=5))
        assert {m["subject"] for m in rows} >= {"Sleeping bag for winter"}
        r = requests.get(f"{zoho.url}{ACCOUNT}/folders/inbox/messages/1732512000000100002/attachments/"
                         "139301194963480040", headers=auth, timeout=5)
        assert r.content == b"JPEG-BYTES-OF-THE-PHOTO"
    finally:
        zoho.close()
