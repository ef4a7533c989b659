"""Zoho Mail API client: OAuth refresh with a shared token cache, retries, one function per endpoint.

Docs: OAuth https://www.zoho.com/accounts/protocol/oauth/web-apps/access-token-expiry.html,
Mail API https://www.zoho.com/mail/help/api/. Every answer is `{status: {code, description}, data}`;
ids are 64-bit and may come as numbers, so they are turned into strings here.

Zoho caps the live access tokens per refresh token, so the token is cached in the Django cache
(Redis in production: shared by every worker) and refreshed by one caller at a time, not per
request. Rate limits are low (about 30 requests a minute, then a temporary lock): 429s and
Zoho's lock answers are retried with backoff honouring Retry-After, never hammered.

Sending is not idempotent: a POST that may have reached Zoho (a read timeout, a 5xx, a dropped
connection) is not retried here, or the customer could get the reply twice. Only answers that
say Zoho refused the request (429, a lock, an expired token) and connections that were never
made are retried; anything else is a non-permanent ZohoError for the sender's claim to handle.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import Parser
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential
from urllib3.exceptions import MaxRetryError, NewConnectionError

from integrations.http_retry import retry_after_seconds
from omnichannel.errors import ChannelError

PAGE_LIMIT = 200  # Zoho's maximum for messages/view
PAGE_OVERLAP = 10  # messages each page re-reads of the one before (see messages_iter)
_refresh_lock = threading.Lock()


class ZohoError(ChannelError):
    """Zoho Mail's answer or its absence, with the flags of omnichannel.errors.ChannelError: `refused`:
    Zoho answered that it did not act (429, a lock, an expired token), so even a non-idempotent request is
    safe to repeat; `maybe_sent`: a POST whose outcome is unknown."""


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, (requests.ConnectionError, requests.Timeout)) or (
        isinstance(exc, ZohoError) and not exc.permanent)


def never_connected(exc: BaseException) -> bool:
    """The request never left this machine: connect timeout, connection refused, DNS failure.
    A connection dropped after the request was written is a plain ConnectionError, not this."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    cause = exc.args[0] if isinstance(exc, requests.ConnectionError) and exc.args else None
    return isinstance(cause, MaxRetryError) and isinstance(cause.reason, NewConnectionError)


def _retryable_unsent(exc: BaseException) -> bool:
    """For non-idempotent calls: retry only when Zoho certainly did not act on the request."""
    return never_connected(exc) or (isinstance(exc, ZohoError) and not exc.permanent and exc.refused)


def _wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, ZohoError) and exc.retry_after is not None:
        return min(exc.retry_after, settings.ZOHO_MAX_RETRY_AFTER_SECONDS)
    return wait_random_exponential(multiplier=settings.ZOHO_BACKOFF_SECONDS, max=30)(state)


@dataclass(frozen=True)
class ZohoDownload:
    content: bytes
    content_type: str


@dataclass(frozen=True)
class ZohoMessage:
    message_id: str
    folder_id: str
    thread_id: str
    subject: str
    from_address: str
    to_address: str
    cc_address: str
    summary: str
    received_time_ms: int
    has_attachment: bool
    raw: dict

    @classmethod
    def from_api(cls, data: dict) -> ZohoMessage:
        return cls(
            message_id=str(data["messageId"]), folder_id=str(data.get("folderId", "")),
            thread_id=str(data.get("threadId") or ""), subject=str(data.get("subject") or ""),
            from_address=str(data.get("fromAddress") or ""), to_address=str(data.get("toAddress") or ""),
            cc_address=str(data.get("ccAddress") or ""), summary=str(data.get("summary") or ""),
            received_time_ms=int(data.get("receivedTime") or 0),
            has_attachment=str(data.get("hasAttachment", "0")) in {"1", "true", "True"}, raw=data,
        )


@dataclass(frozen=True)
class ZohoSentMessage:
    """Zoho's answer to a send: its message id and the RFC Message-ID it gave the email (`mailId`)."""
    message_id: str
    mail_id: str
    subject: str
    raw: dict


@dataclass(frozen=True)
class ZohoOriginalMessage:
    """The raw MIME source of one message, as Zoho stored it (headers and every part)."""
    message_id: str
    mime: str

    def parsed(self) -> EmailMessage:
        return Parser(policy=policy.default).parsestr(self.mime)


MAIL_FORMATS = ("plaintext", "html")


class ZohoClient:
    def __init__(self, *, accounts_url: str, mail_url: str, client_id: str, client_secret: str, refresh_token: str,
                 account_id: str, session: requests.Session | None = None):
        self.accounts_url = accounts_url.rstrip("/")
        self.mail_url = mail_url.rstrip("/")
        self.client_id, self.client_secret, self.refresh_token = client_id, client_secret, refresh_token
        self.account_id = account_id
        self.session = session or requests.Session()
        self._token_key = "zoho:token:" + hashlib.sha256(f"{accounts_url}|{refresh_token}".encode()).hexdigest()[:24]

    @classmethod
    def from_settings(cls) -> ZohoClient:
        if settings.ZOHO_MODE == "fake" and not settings.ZOHO_BASE_URL:
            from integrations.zoho.fake import fake_zoho_url  # a development server: only in fake mode
            base = fake_zoho_url()
            accounts, mail = base, base
        else:
            accounts = settings.ZOHO_ACCOUNTS_URL or f"https://accounts.zoho.{settings.ZOHO_DC}"
            mail = settings.ZOHO_BASE_URL or f"https://mail.zoho.{settings.ZOHO_DC}"
        return cls(accounts_url=accounts, mail_url=mail, client_id=settings.ZOHO_CLIENT_ID or "fake-client",
                   client_secret=settings.ZOHO_CLIENT_SECRET or "fake-secret",
                   refresh_token=settings.ZOHO_REFRESH_TOKEN or "fake-refresh", account_id=settings.ZOHO_ACCOUNT_ID or "1")

    # --- OAuth -------------------------------------------------------------------------
    def access_token(self) -> str:
        token = cache.get(self._token_key)
        if token:
            return token
        # One refresh at a time per process, and across processes a short cache lock.
        with _refresh_lock:
            token = cache.get(self._token_key)
            if token:
                return token
            lock_key = self._token_key + ":lock"
            deadline = time.monotonic() + 10
            while not cache.add(lock_key, "1", timeout=15):
                if (token := cache.get(self._token_key)) or time.monotonic() > deadline:
                    if token:
                        return token
                    break
                time.sleep(0.05)
            try:
                return self._refresh()
            finally:
                cache.delete(lock_key)

    def _refresh(self) -> str:
        """POST /oauth/v2/token grant_type=refresh_token (docs: Zoho Accounts OAuth, refresh access token)."""
        response = self.session.post(f"{self.accounts_url}/oauth/v2/token", timeout=settings.ZOHO_TIMEOUT_SECONDS, data={
            "refresh_token": self.refresh_token, "client_id": self.client_id,
            "client_secret": self.client_secret, "grant_type": "refresh_token"})
        data = _json(response)
        if response.status_code != 200 or "access_token" not in data:
            raise ZohoError(f"Zoho token refresh failed: {response.status_code} {data.get('error', data)}",
                            status=response.status_code,
                            permanent=response.status_code < 500 and response.status_code != 429,
                            refused=True)  # whatever happened, the call that needed the token was not made
        # Refresh a minute early so a request never carries a token that expires in flight.
        cache.set(self._token_key, data["access_token"], timeout=max(60, int(data.get("expires_in", 3600)) - 60))
        return data["access_token"]

    # --- requests ------------------------------------------------------------------------
    def _call(self, method: str, path: str, *, idempotent: bool | None = None, **kwargs) -> Any:
        idempotent = method in ("GET", "HEAD", "PUT", "DELETE") if idempotent is None else idempotent
        retrying = Retrying(retry=retry_if_exception(_retryable if idempotent else _retryable_unsent), wait=_wait,
                            reraise=True, stop=stop_after_attempt(settings.ZOHO_MAX_ATTEMPTS))
        try:
            return retrying(self._call_once, method, path, **kwargs)
        except requests.RequestException as exc:
            if idempotent or never_connected(exc):
                raise
            # A read timeout or a dropped connection after the request went out: Zoho may have acted.
            raise ZohoError(f"{method} {path}: no answer from Zoho ({type(exc).__name__}: {exc}); it may have been "
                            "carried out, so it was not repeated", permanent=False, maybe_sent=True) from exc

    def _call_once(self, method: str, path: str, *, raw: bool = False, **kwargs) -> Any:
        url = f"{self.mail_url}/api/accounts/{self.account_id}/{path.lstrip('/')}"
        try:
            token = self.access_token()
        except requests.RequestException as exc:  # the call itself was not made: safe to repeat
            raise ZohoError(f"Zoho token refresh failed: {type(exc).__name__}: {exc}", permanent=False,
                            refused=True) from exc
        headers = {"Authorization": f"Zoho-oauthtoken {token}"}
        response = self.session.request(method, url, headers=headers, timeout=settings.ZOHO_TIMEOUT_SECONDS, **kwargs)
        if response.status_code == 401:
            cache.delete(self._token_key)  # expired or revoked: the retry refreshes once
            raise ZohoError("Zoho answered 401 (token expired)", status=401, permanent=False, retry_after=0,
                            refused=True)
        if response.status_code == 429 or response.status_code >= 500:
            # A 429 is a refusal; a 5xx may come after Zoho acted (a proxy timing out on a slow send).
            refused = response.status_code == 429
            raise ZohoError(f"Zoho answered {response.status_code} for {method} {path}", status=response.status_code,
                            permanent=False, retry_after=retry_after_seconds(response.headers.get("Retry-After")),
                            refused=refused, maybe_sent=not refused and method == "POST")
        if raw:
            if response.status_code >= 400:
                raise ZohoError(f"Zoho answered {response.status_code} for {method} {path}", status=response.status_code)
            # "image/jpeg; name=x.jpg" -> "image/jpeg"
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            return ZohoDownload(content=response.content, content_type=content_type or "application/octet-stream")
        data = _json(response)
        description = str((data.get("status") or {}).get("description", ""))
        if response.status_code >= 400:
            # Zoho's temporary lock after too many requests comes as a 4xx with a telling description.
            locked = "too many" in description.lower() or "lock" in description.lower()
            raise ZohoError(f"Zoho answered {response.status_code} for {method} {path}: {description or data}",
                            status=response.status_code, permanent=not locked, retry_after=60.0 if locked else None,
                            refused=locked)
        return data.get("data")

    # --- endpoints -------------------------------------------------------------------------
    def folders_list(self) -> list[dict]:
        """GET folders (https://www.zoho.com/mail/help/api/get-all-folder-details.html)."""
        return [{**f, "folderId": str(f["folderId"])} for f in self._call("GET", "folders") or []]

    def folder_id_for(self, name_or_id: str) -> str:
        for folder in self.folders_list():
            if name_or_id in (folder["folderId"], folder.get("folderName"), folder.get("path", "").strip("/")):
                return folder["folderId"]
        raise ZohoError(f"no Zoho folder named or numbered {name_or_id!r}")

    def messages_list(self, *, folder_id: str, start: int = 1, limit: int = PAGE_LIMIT,
                      thread_id: str | None = None, oldest_first: bool = False) -> list[ZohoMessage]:
        """GET messages/view (https://www.zoho.com/mail/help/api/get-emails-list.html). Zoho sorts by
        date, newest first unless `sortorder=true` (ascending); `start` is 1-based."""
        params = {"folderId": folder_id, "start": start, "limit": min(limit, PAGE_LIMIT),
                  "sortorder": "true" if oldest_first else "false"}
        if thread_id:
            params["threadId"] = thread_id
        return [ZohoMessage.from_api(m) for m in self._call("GET", "messages/view", params=params) or []]

    def messages_iter(self, *, folder_id: str, limit: int = PAGE_LIMIT, oldest_first: bool = False
                      ) -> Iterator[ZohoMessage]:
        """The messages of a folder, page by page, newest first by default. A page is requested only
        when the caller reads past the previous one, so stopping early saves the remaining requests.
        Mail arriving while paging pushes older messages onto the next page: repeats are dropped.
        Mail deleted while paging pulls later ones back onto a page already read: each page starts
        PAGE_OVERLAP messages before where the last one ended, so up to that many deletions between
        two requests skip nothing (a few repeats per page, dropped, for no gap)."""
        start, seen = 1, set()
        overlap = min(PAGE_OVERLAP, limit // 2)
        while True:
            page = self.messages_list(folder_id=folder_id, start=start, limit=limit, oldest_first=oldest_first)
            for message in page:
                if message.message_id not in seen:
                    seen.add(message.message_id)
                    yield message
            if len(page) < limit:
                return
            start += len(page) - overlap

    def message_content(self, *, folder_id: str, message_id: str) -> str:
        """GET folders/{folderId}/messages/{messageId}/content (https://www.zoho.com/mail/help/api/get-email-content.html)."""
        data = self._call("GET", f"folders/{folder_id}/messages/{message_id}/content") or {}
        return str(data.get("content") or "")

    def message_headers(self, *, folder_id: str, message_id: str) -> dict[str, str]:
        """GET folders/{folderId}/messages/{messageId}/header (https://www.zoho.com/mail/help/api/get-email-header.html):
        the RFC headers as {name: value}, the first (topmost) of a repeated one. Zoho answers the raw
        header block as text in `headerContent` by default (`raw=true`); a JSON object there is read too."""
        data = self._call("GET", f"folders/{folder_id}/messages/{message_id}/header") or {}
        content = data.get("headerContent")
        if isinstance(content, str):
            items = Parser(policy=policy.default).parsestr(content, headersonly=True).items()
        elif isinstance(content, dict):
            items = [(name, value[0] if isinstance(value, list) and value else value) for name, value in content.items()]
        else:
            raise ZohoError(f"Zoho header answer for {message_id} has no headerContent: {str(data)[:200]}")
        headers: dict[str, str] = {}
        seen: set[str] = set()
        for name, value in items:
            if str(name).lower() not in seen:
                seen.add(str(name).lower())
                headers[str(name)] = str(value)
        return headers

    def attachments_info(self, *, folder_id: str, message_id: str) -> list[dict]:
        """GET …/attachmentinfo (https://www.zoho.com/mail/help/api/get-attach-info.html)."""
        data = self._call("GET", f"folders/{folder_id}/messages/{message_id}/attachmentinfo") or {}
        return [{**a, "attachmentId": str(a["attachmentId"])} for a in data.get("attachments", [])]

    def attachment_download(self, *, folder_id: str, message_id: str, attachment_id: str) -> ZohoDownload:
        """GET …/attachments/{attachmentId} (https://www.zoho.com/mail/help/api/get-attachment-content.html)."""
        return self._call("GET", f"folders/{folder_id}/messages/{message_id}/attachments/{attachment_id}", raw=True)

    def message_reply(self, *, message_id: str, from_address: str, to_address: str, subject: str, content: str,
                      mail_format: str = "plaintext") -> str:
        """POST messages/{messageId} with action=reply (https://www.zoho.com/mail/help/api/post-reply-to-an-email.html).
        Zoho threads the reply and sets In-Reply-To/References from the original. Returns the new message id."""
        data = self._call("POST", f"messages/{message_id}", json={
            "action": "reply", "fromAddress": from_address, "toAddress": to_address, "subject": subject,
            "content": content, "mailFormat": mail_format}) or {}
        if "messageId" not in data:
            raise ZohoError(f"Zoho reply answer has no messageId: {str(data)[:200]}")
        return str(data["messageId"])

    def message_send(self, *, from_address: str, to_address: str, subject: str, content: str,
                     cc_address: str = "", bcc_address: str = "", mail_format: str = "plaintext") -> ZohoSentMessage:
        """POST messages (https://www.zoho.com/mail/help/api/post-send-an-email.html): a new email, not a
        reply, so Zoho starts a new thread. Addresses are comma-separated. Not idempotent: retried only
        when Zoho refused it or it never left (see the module docstring), else a `maybe_sent` ZohoError."""
        for name, value in (("from_address", from_address), ("to_address", to_address)):
            if "@" not in value:
                raise ValueError(f"message_send: {name} must be an email address, got {value!r}")
        if mail_format not in MAIL_FORMATS:
            raise ValueError(f"message_send: mail_format must be one of {MAIL_FORMATS}, got {mail_format!r}")
        body = {"fromAddress": from_address, "toAddress": to_address, "subject": subject, "content": content,
                "mailFormat": mail_format}
        if cc_address:
            body["ccAddress"] = cc_address
        if bcc_address:
            body["bccAddress"] = bcc_address
        data = self._call("POST", "messages", json=body) or {}
        if "messageId" not in data:
            # Zoho took it (200) but we cannot tell which message it became: not safe to send again.
            raise ZohoError(f"Zoho send answer has no messageId: {str(data)[:200]}", maybe_sent=True)
        return ZohoSentMessage(message_id=str(data["messageId"]), mail_id=str(data.get("mailId") or ""),
                               subject=str(data.get("subject") or subject), raw=data)

    def message_original(self, *, message_id: str) -> ZohoOriginalMessage:
        """GET messages/{messageId}/originalmessage (https://www.zoho.com/mail/help/api/get-original-message.html):
        the MIME source, in `data.content`. A read, so retried like every GET."""
        data = self._call("GET", f"messages/{message_id}/originalmessage") or {}
        if not isinstance(data.get("content"), str):
            raise ZohoError(f"Zoho originalmessage answer for {message_id} has no content: {str(data)[:200]}")
        return ZohoOriginalMessage(message_id=str(data.get("messageId") or message_id), mime=data["content"])


def _json(response: requests.Response) -> dict:
    try:
        data = response.json()
    except ValueError:
        return {"status": {"code": response.status_code, "description": response.text[:200]}}
    return data if isinstance(data, dict) else {"data": data}
