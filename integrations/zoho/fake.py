"""A fake Zoho (Accounts + Mail API) as a real local HTTP server, for `make run` and the tests.

It follows the documented shapes: `{status: {code, description}, data}` envelopes, 64-bit ids,
`messages/view` paging with 1-based `start` and `limit` <= 200, `content`, `attachmentinfo`,
attachment download (answered with the attachment's `contentType` when a test gives one), the
headers of a message (`_headers`) as Zoho's raw header block, and
reply by `POST messages/{id}` with `action: reply`, a new email by `POST messages`, and the MIME
source by `GET messages/{id}/originalmessage`. Like Zoho, `messages/view` lists newest first
(by receivedTime) unless `sortorder=true`. It serves the mailbox in fixtures/zoho/mailbox.json
and can be told to fail: `fail_next(status, times, retry_after)` answers the next requests with
that status, `fail_nth(n, status, path_contains)` only the n-th matching request from now.

This module is the HTTP layer: `FakeZoho._answer` (log, delay, injected failures, the token
endpoint, the token check) and a route table of small handlers. The mailbox and everything else
they read and change is `ZohoState` (fake_state.py).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

from django.db import connections

from conversations.models import Message
from integrations.fake_http import Request, Response, dispatch, json_response, route, serve
from integrations.zoho.fake_state import ZohoState

_MAIL = re.compile(r"/api/accounts/[^/]+/(.*)")
_MESSAGE = r"folders/[^/]+/messages/([^/]+)"


class FakeZoho(ZohoState):
    def __init__(self, mailbox: dict | None = None, *, token_ttl: int = 3600,
                 message_lookup: Callable[[str], dict | None] | None = None):
        super().__init__(mailbox, token_ttl=token_ttl, message_lookup=message_lookup)
        self.httpd, self.url = serve(self._answer, ("GET", "POST"))

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _answer(self, req: Request) -> Response:
        self.requests.append((req.method, req.path))
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if failure := self._failure_for(req.path):
            return _injected(*failure)
        if req.method == "POST" and req.path == "/oauth/v2/token":
            return _token(self, req)
        auth = req.headers.get("Authorization", "")
        if not auth.startswith("Zoho-oauthtoken ") or auth.split(" ", 1)[1] not in self.valid_tokens:
            return _error(401, "Invalid OAuth token")
        mail = _MAIL.fullmatch(req.path)
        if not mail:
            return _error(404, "Not found")
        return dispatch(MAIL_ROUTES, self, req, mail.group(1)) or _error(404, "Unknown endpoint")


def _ok(data) -> Response:
    return json_response(200, {"status": {"code": 200, "description": "success"}, "data": data})


def _error(status: int, description: str, data: dict | None = None) -> Response:
    return json_response(status, {"status": {"code": status, "description": description}, "data": data or {}})


def _injected(status: int, retry_after: float | None, payload: dict | None) -> Response:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return json_response(status, payload or {"status": {"code": status, "description": "failure"},
                                             "data": {"moreInfo": "injected"}}, headers)


def _token(fake: FakeZoho, req: Request) -> Response:
    form = req.form()
    if form.get("grant_type") != ["refresh_token"] or not form.get("refresh_token"):
        return json_response(400, {"error": "invalid_code"})
    return json_response(200, {"access_token": fake.token_issue(), "api_domain": "https://www.zohoapis.com",
                               "token_type": "Bearer", "expires_in": fake.token_ttl})


def _view(fake: FakeZoho, req: Request) -> Response:
    start, limit = int(req.arg("start", "1")), int(req.arg("limit", "10"))
    if limit > 200:
        return _error(400, "limit exceeds 200")
    # Zoho's default order is by date, newest first; sortorder=true is ascending.
    rows = fake.folder_rows(req.arg("folderId", ""), oldest_first=req.arg("sortorder", "false") == "true",
                            thread=req.arg("threadId"))
    return _ok(rows[start - 1:start - 1 + limit])


def _folders(fake: FakeZoho, req: Request) -> Response:
    return _ok([{"folderId": f, "folderName": f.capitalize(), "path": f"/{f.capitalize()}"}
                for f in fake.folder_ids()])


def _unknown_message(fake: FakeZoho, req: Request) -> Response | None:
    return None if req.match.group(1) in fake.messages else _error(404, "Message not found")


def _content(fake: FakeZoho, req: Request) -> Response:
    msg_id = req.match.group(1)
    return _unknown_message(fake, req) or _ok({"messageId": msg_id, "content": fake.contents.get(msg_id, "")})


def _header(fake: FakeZoho, req: Request) -> Response:
    if missing := _unknown_message(fake, req):
        return missing
    # Like Zoho: the raw header block as text, unless raw=false asks for JSON.
    headers = fake.messages[req.match.group(1)].get("_headers", {})
    if req.arg("raw", "true") == "false":
        return _ok({"headerContent": headers})
    return _ok({"headerContent": "".join(f"{k}: {v}\r\n" for k, v in headers.items())})


def _attachment_info(fake: FakeZoho, req: Request) -> Response:
    msg_id = req.match.group(1)
    return _unknown_message(fake, req) or _ok({"messageId": msg_id, "attachments": [
        {k: v for k, v in a.items() if k not in ("content", "contentType")} for a in fake.attachments.get(msg_id, [])]})


def _attachment(fake: FakeZoho, req: Request) -> Response:
    if missing := _unknown_message(fake, req):
        return missing
    msg_id, attachment_id = req.match.group(1), req.match.group(2)
    found = next((a for a in fake.attachments.get(msg_id, []) if str(a["attachmentId"]) == attachment_id), None)
    if not found:
        return _error(404, "No attachment")
    return Response(200, found["content"].encode(), content_type=found.get("contentType", "application/octet-stream"))


def _original(fake: FakeZoho, req: Request) -> Response:
    msg_id = req.match.group(1)
    return _unknown_message(fake, req) or _ok({"messageId": msg_id, "content": fake.original_of(msg_id)})


def _send_new(fake: FakeZoho, req: Request) -> Response:
    payload = req.json()
    if not payload.get("fromAddress") or not payload.get("toAddress"):
        return _error(400, "Invalid Input", {"moreInfo": "fromAddress and toAddress are required"})
    new_id = fake._new_id()
    fake.sent.append({**payload, "messageId": new_id, "inReplyTo": None})
    return _ok({"messageId": new_id, "mailId": f"<{new_id}@fake.zoho>", **{k: payload.get(k, "") for k in (
        "subject", "fromAddress", "toAddress", "ccAddress", "bccAddress", "content", "mailFormat")}})


def _reply(fake: FakeZoho, req: Request) -> Response:
    payload, reply_to = req.json(), req.match.group(1)
    original = fake.reply_target(reply_to)
    if payload.get("action") != "reply" or original is None:
        return _error(400, "Invalid input")
    new_id = fake._new_id()
    fake.sent.append({**payload, "messageId": new_id, "inReplyTo": reply_to, "threadId": original.get("threadId")})
    return _ok({"messageId": new_id, **{k: payload.get(k) for k in (
        "subject", "fromAddress", "toAddress", "content", "mailFormat")}})


# Matched against the path after /api/accounts/<account id>/, in order.
MAIL_ROUTES = [
    route("GET", r"messages/view", _view),
    route("GET", r"folders", _folders),
    route("GET", rf"{_MESSAGE}/content", _content),
    route("GET", rf"{_MESSAGE}/header", _header),
    route("GET", rf"{_MESSAGE}/attachmentinfo", _attachment_info),
    route("GET", rf"{_MESSAGE}/attachments/(.+)", _attachment),
    route("GET", r"messages/([^/]+)/originalmessage", _original),
    route("POST", r"messages", _send_new),
    route("POST", r"messages/([^/]+)", _reply),
]


_shared: FakeZoho | None = None
_shared_lock = threading.Lock()


def ingested_message(message_id: str) -> dict | None:
    """A message we ingested, as the fake's mailbox would hold it: ZOHO_MODE=fake stands in for a
    mailbox whose contents are what our database received (webhooks, sync, the demo)."""
    try:
        row = (Message.objects.filter(external_msg_id=message_id)
               .values("external_msg_id", "subject", "from_address", "conversation__external_thread_id").first())
    finally:
        connections.close_all()  # this request's own thread: its connection must not outlive it
    if row is None:
        return None
    return {"messageId": row["external_msg_id"], "folderId": "inbox", "subject": row["subject"],
            "fromAddress": row["from_address"], "threadId": row["conversation__external_thread_id"]}


def fake_zoho_url() -> str:
    """The process-wide fake (ZOHO_MODE=fake with no ZOHO_BASE_URL), started on first use. It knows
    every message in our database, so approving a reply in `make run` or in any worker sends it."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = FakeZoho(message_lookup=ingested_message)
            # Ids of sent replies must stay new across processes (a restarted `make run`, a web and a worker
            # process): the database already holds the replies an earlier process sent, under their ids, and
            # a reused id would be taken for one of them. The clock (in µs) starts each process past them.
            _shared._next_id += time.time_ns() // 1000
        return _shared.url
