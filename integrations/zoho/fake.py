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
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from django.conf import settings
from django.db import connections

from conversations.models import Message

MAILBOX = Path(settings.BASE_DIR) / "fixtures" / "zoho" / "mailbox.json"


class FakeZoho:
    def __init__(self, mailbox: dict | None = None, *, token_ttl: int = 3600,
                 message_lookup: Callable[[str], dict | None] | None = None):
        # message_lookup: where the fake finds a message it was not given (the shared fake looks in
        # our own database, so a reply to any email we ingested works in every process).
        self.message_lookup = message_lookup
        data = mailbox if mailbox is not None else json.loads(MAILBOX.read_text())
        self.messages: dict[str, dict] = {str(m["messageId"]): m for m in data.get("messages", [])}
        self.contents: dict[str, str] = {str(k): v for k, v in data.get("contents", {}).items()}
        self.attachments: dict[str, list[dict]] = data.get("attachments", {})
        self.originals: dict[str, str] = {str(k): v for k, v in data.get("originals", {}).items()}
        self.sent: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.token_refreshes = 0
        self.token_ttl = token_ttl
        self.valid_tokens: set[str] = set()
        self.failures: list[tuple[int, float | None, dict | None]] = []
        self.nth_failures: list[dict] = []  # {"left": n, "path": substring, "failure": (status, retry_after, body)}
        self.delay_seconds = 0.0
        self._lock = threading.Lock()
        self._next_id = 1_900_000_000_000_000_000
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None, body: dict | None = None):
        with self._lock:
            self.failures += [(status, retry_after, body)] * times

    def fail_nth(self, n: int, status: int, *, path_contains: str = "", retry_after: float | None = None,
                 body: dict | None = None) -> None:
        """Answer the n-th request from now whose path contains `path_contains` with `status`
        (a crash in the middle of a run: the requests before it succeed)."""
        with self._lock:
            self.nth_failures.append({"left": n, "path": path_contains, "failure": (status, retry_after, body)})

    def add_message(self, message: dict, content: str = "", original: str = "") -> None:
        self.messages[str(message["messageId"])] = message
        if content:
            self.contents[str(message["messageId"])] = content
        if original:
            self.originals[str(message["messageId"])] = original

    def _failure_for(self, path: str):
        with self._lock:
            for rule in self.nth_failures:
                if rule["path"] in path:
                    rule["left"] -= 1
                    if rule["left"] == 0:
                        self.nth_failures.remove(rule)
                        return rule["failure"]
            return self.failures.pop(0) if self.failures else None

    def original_of(self, message_id: str) -> str:
        """The MIME source: the one a test gave, else one built from the listed fields and content."""
        if message_id in self.originals:
            return self.originals[message_id]
        msg, mime = self.messages[message_id], EmailMessage()
        headers = msg.get("_headers", {})
        mime["From"] = msg.get("fromAddress", "")
        mime["To"] = msg.get("toAddress", "")
        mime["Subject"] = msg.get("subject", "")
        mime["Date"] = format_datetime(datetime.fromtimestamp(int(msg.get("receivedTime", 0)) / 1000, tz=UTC))
        mime["Message-ID"] = headers.get("Message-ID", f"<{message_id}@fake.zoho>")
        for name in ("In-Reply-To", "References"):
            if headers.get(name):
                mime[name] = headers[name]
        mime.set_content(self.contents.get(message_id, msg.get("summary", "")), subtype="html")
        return mime.as_string()

    def _new_id(self) -> str:
        with self._lock:
            self._next_id += 1
            return str(self._next_id)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, payload, headers: dict | None = None, raw: bytes | None = None,
                      content_type: str = "application/octet-stream"):
                body = raw if raw is not None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type if raw is not None else "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the timeout tests): what real Zoho would see too

            def _ok(self, data):
                self._send(200, {"status": {"code": 200, "description": "success"}, "data": data})

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_GET(self):  # noqa: N802
                self._route("GET")

            def do_POST(self):  # noqa: N802
                self._route("POST")

            def _route(self, method: str):
                url = urlparse(self.path)
                fake.requests.append((method, url.path))
                body = self._body()
                if fake.delay_seconds:
                    time.sleep(fake.delay_seconds)
                failure = fake._failure_for(url.path)
                if failure:
                    status, retry_after, payload = failure
                    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                    return self._send(status, payload or {"status": {"code": status, "description": "failure"},
                                                          "data": {"moreInfo": "injected"}}, headers)
                if url.path == "/oauth/v2/token" and method == "POST":
                    form = parse_qs(body.decode())
                    if form.get("grant_type") != ["refresh_token"] or not form.get("refresh_token"):
                        return self._send(400, {"error": "invalid_code"})
                    with fake._lock:
                        fake.token_refreshes += 1
                        token = f"1000.fake{fake.token_refreshes}.{int(time.time())}"
                        fake.valid_tokens.add(token)
                    return self._send(200, {"access_token": token, "api_domain": "https://www.zohoapis.com",
                                            "token_type": "Bearer", "expires_in": fake.token_ttl})
                auth = self.headers.get("Authorization", "")
                if not auth.startswith("Zoho-oauthtoken ") or auth.split(" ", 1)[1] not in fake.valid_tokens:
                    return self._send(401, {"status": {"code": 401, "description": "Invalid OAuth token"}, "data": {}})
                m = re.match(r"^/api/accounts/[^/]+/(.*)$", url.path)
                if not m:
                    return self._send(404, {"status": {"code": 404, "description": "Not found"}, "data": {}})
                self._mail(method, m.group(1), parse_qs(url.query), body)

            def _mail(self, method, path, query, body):
                if method == "GET" and path == "messages/view":
                    folder = query.get("folderId", [""])[0]
                    start, limit = int(query.get("start", ["1"])[0]), int(query.get("limit", ["10"])[0])
                    if limit > 200:
                        return self._send(400, {"status": {"code": 400, "description": "limit exceeds 200"}, "data": {}})
                    # Zoho's default order is by date, newest first; sortorder=true is ascending.
                    oldest_first = query.get("sortorder", ["false"])[0] == "true"
                    rows = sorted((msg for msg in fake.messages.values() if str(msg.get("folderId")) == folder),
                                  key=lambda msg: (int(msg.get("receivedTime", 0)), int(msg["messageId"])),
                                  reverse=not oldest_first)
                    thread = query.get("threadId", [None])[0]
                    if thread:
                        rows = [r for r in rows if str(r.get("threadId")) == thread]
                    return self._ok(rows[start - 1:start - 1 + limit])
                if method == "GET" and path == "folders":
                    folders = sorted({str(msg.get("folderId")) for msg in fake.messages.values()} | {"inbox"})
                    return self._ok([{"folderId": f, "folderName": f.capitalize(), "path": f"/{f.capitalize()}"}
                                     for f in folders])
                m = re.match(r"^folders/([^/]+)/messages/([^/]+)/(content|header|attachmentinfo|attachments/(.+))$", path)
                if method == "GET" and m:
                    msg_id = m.group(2)
                    if msg_id not in fake.messages:
                        return self._send(404, {"status": {"code": 404, "description": "Message not found"}, "data": {}})
                    if m.group(3) == "content":
                        return self._ok({"messageId": msg_id, "content": fake.contents.get(msg_id, "")})
                    if m.group(3) == "header":
                        # Like Zoho: the raw header block as text, unless raw=false asks for JSON.
                        headers = fake.messages[msg_id].get("_headers", {})
                        if query.get("raw", ["true"])[0] == "false":
                            return self._ok({"headerContent": headers})
                        return self._ok({"headerContent": "".join(f"{k}: {v}\r\n" for k, v in headers.items())})
                    atts = fake.attachments.get(msg_id, [])
                    if m.group(3) == "attachmentinfo":
                        return self._ok({"messageId": msg_id, "attachments": [
                            {k: v for k, v in a.items() if k not in ("content", "contentType")} for a in atts]})
                    found = next((a for a in atts if str(a["attachmentId"]) == m.group(4)), None)
                    if not found:
                        return self._send(404, {"status": {"code": 404, "description": "No attachment"}, "data": {}})
                    return self._send(200, None, raw=found["content"].encode(),
                                      content_type=found.get("contentType", "application/octet-stream"))
                m = re.match(r"^messages/([^/]+)/originalmessage$", path)
                if method == "GET" and m:
                    if m.group(1) not in fake.messages:
                        return self._send(404, {"status": {"code": 404, "description": "Message not found"}, "data": {}})
                    return self._ok({"messageId": m.group(1), "content": fake.original_of(m.group(1))})
                if method == "POST" and path == "messages":
                    payload = json.loads(body or b"{}")
                    if not payload.get("fromAddress") or not payload.get("toAddress"):
                        return self._send(400, {"status": {"code": 400, "description": "Invalid Input"},
                                                "data": {"moreInfo": "fromAddress and toAddress are required"}})
                    new_id = fake._new_id()
                    fake.sent.append({**payload, "messageId": new_id, "inReplyTo": None})
                    return self._ok({"messageId": new_id, "mailId": f"<{new_id}@fake.zoho>",
                                     **{k: payload.get(k, "") for k in ("subject", "fromAddress", "toAddress",
                                                                        "ccAddress", "bccAddress", "content",
                                                                        "mailFormat")}})
                m = re.match(r"^messages/([^/]+)$", path)
                if method == "POST" and m:
                    payload = json.loads(body or b"{}")
                    original = fake.messages.get(m.group(1))
                    if original is None and fake.message_lookup is not None:
                        original = fake.message_lookup(m.group(1))
                    if payload.get("action") != "reply" or original is None:
                        return self._send(400, {"status": {"code": 400, "description": "Invalid input"}, "data": {}})
                    new_id = fake._new_id()
                    fake.sent.append({**payload, "messageId": new_id, "inReplyTo": m.group(1),
                                      "threadId": original.get("threadId")})
                    return self._ok({"messageId": new_id, "subject": payload.get("subject"),
                                     "fromAddress": payload.get("fromAddress"), "toAddress": payload.get("toAddress"),
                                     "content": payload.get("content"), "mailFormat": payload.get("mailFormat")})
                return self._send(404, {"status": {"code": 404, "description": "Unknown endpoint"}, "data": {}})

        return Handler


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
