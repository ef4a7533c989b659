"""The fake Zoho's state (integrations/zoho/fake.py serves it over HTTP): the mailbox (by default
fixtures/zoho/mailbox.json) with its contents, attachments and MIME sources, the emails sent
through it, the access tokens it issued, the request log and the failures a test asks for."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from django.conf import settings

MAILBOX = Path(settings.BASE_DIR) / "fixtures" / "zoho" / "mailbox.json"


class ZohoState:
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

    def token_issue(self) -> str:
        with self._lock:
            self.token_refreshes += 1
            token = f"1000.fake{self.token_refreshes}.{int(time.time())}"
            self.valid_tokens.add(token)
        return token

    def folder_rows(self, folder: str, *, oldest_first: bool, thread: str | None) -> list[dict]:
        """The folder's messages by receivedTime, newest first unless oldest_first, of one thread if given."""
        rows = sorted((msg for msg in self.messages.values() if str(msg.get("folderId")) == folder),
                      key=lambda msg: (int(msg.get("receivedTime", 0)), int(msg["messageId"])), reverse=not oldest_first)
        return [r for r in rows if str(r.get("threadId")) == thread] if thread else rows

    def folder_ids(self) -> list[str]:
        return sorted({str(msg.get("folderId")) for msg in self.messages.values()} | {"inbox"})

    def reply_target(self, message_id: str) -> dict | None:
        """The message a reply answers: in the mailbox, else wherever message_lookup finds it."""
        original = self.messages.get(message_id)
        if original is None and self.message_lookup is not None:
            original = self.message_lookup(message_id)
        return original
