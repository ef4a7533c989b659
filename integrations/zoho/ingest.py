"""Zoho message payloads (webhook, poll) into conversations: validate, normalize, ingest.

Threading: Zoho's `threadId`, else the RFC `In-Reply-To`/`References`, else a new conversation
(done by `conversations.services.threads.message_ingest`). The RFC headers are fetched for every
inbound message, one request each: triage reads them (an out-of-office reply to our answer arrives
in a thread we hold, and often only `Auto-Submitted` says what it is). For our own outbound mail
they are fetched only when the thread id is not one we hold (a reply Zoho filed under a new thread
still joins by headers): Zoho's rate limit is low. The same message arriving by webhook
and by poll is one row: both carry Zoho's message id. Bodies: HTML is sanitized with nh3 before
it is kept, and the text is taken from the sanitized HTML when there is no plain part.
"""

from __future__ import annotations

import html as html_lib
import logging
import mimetypes
import re
import unicodedata
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.headerregistry import HeaderRegistry
from email.utils import getaddresses, parseaddr

import lxml.html
import nh3
import requests
from django.conf import settings
from django.utils.dateparse import parse_datetime

from conversations.attachments import attachment_filename
from conversations.models import Conversation, Message
from conversations.services.threads import MessageFacts, message_ingest
from customers.services import customer_get_or_create_lead
from integrations.deliveries import DeliverySource, delivery_process
from integrations.zoho.client import ZohoClient, ZohoError
from omnichannel.blobstore import blob_put
from omnichannel.errors import InvalidPayload
from omnichannel.html_depth import html_nesting_capped
from omnichannel.json_input import json_parse
from omnichannel.metrics import records_ingested_total
from omnichannel.models import WebhookDelivery
from omnichannel.webhook_deliveries import webhook_delivery_erase

logger = logging.getLogger(__name__)
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
_GENERIC_TYPE = "application/octet-stream"
_HEADER_PARSER = HeaderRegistry()
# What email.headerregistry raises on text that is no address list (CR/LF in an address: ValueError).
_UNREADABLE = (ValueError, IndexError, TypeError, AttributeError, HeaderParseError)
_BLOCKS = ("br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote")


def zoho_payload_parse(body: bytes) -> dict:
    """Bytes of a delivery into a message dict, or InvalidPayload naming what is wrong."""
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidPayload(f"body is not valid UTF-8 (byte {exc.start})") from None
    data = json_parse(text)  # InvalidPayload when not JSON or nested too deep
    if isinstance(data, dict) and isinstance(data.get("data"), dict) and "messageId" not in data:
        data = data["data"]  # the API's {status, data} envelope
    if not isinstance(data, dict):
        raise InvalidPayload(f"body must be a JSON object, not {type(data).__name__}")
    return without_nul(data)


def without_nul(value):
    """The same JSON value with NUL characters removed from every string (keys too). JSON may escape
    a NUL, but Postgres text and jsonb refuse it; the raw bytes stay in the delivery as received."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


# Bidi embeddings, overrides and isolates: a U+202E in a subject reverses the rest of its queue row and
# page title ("Refund \u202eredro ym" reads as "Refund my order"). Other characters are the customer's.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _str_field(payload: dict, name: str, *, required: bool = False) -> str:
    value = payload.get(name)
    if value is None or value == "":
        if required:
            raise InvalidPayload(f"field {name!r} is required")
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidPayload(f"field {name!r} must be a string or number, not {type(value).__name__}")
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _sent_at(payload: dict) -> datetime:
    for name in ("receivedTime", "sentDateInGMT"):
        raw = payload.get(name)
        if raw in (None, ""):
            continue
        try:
            return datetime.fromtimestamp(int(raw) / 1000, tz=UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            parsed = parse_datetime(str(raw)) if isinstance(raw, str) else None
            if parsed:
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
            raise InvalidPayload(f"field {name!r} is not a timestamp in milliseconds: {raw!r}") from None
    raise InvalidPayload("field 'receivedTime' is required")


def _mailboxes(raw: str) -> list[tuple[str, str]]:
    """(display name, address) of each mailbox in an address header, by email.headerregistry: RFC 5322
    with nested comments, quoted names and commas inside comments. (The older email.utils parser
    answers differently across 3.11 patch releases: its strict mode, added in a security release,
    turns "a@b.com (Ada (home, work))" into nothing, so the image and a laptop would disagree.)
    A comment is never the display name, so an address written inside one cannot pose as the sender.
    Raises RecursionError on thousands of nested comments and ValueError (or a parser error) on what
    is not an address list."""
    header = _HEADER_PARSER("To", html_lib.unescape(raw or ""))
    return [(mailbox.display_name, mailbox.addr_spec) for mailbox in header.addresses
            if "@" in mailbox.addr_spec and not any(ord(c) < 32 or ord(c) == 127 for c in mailbox.addr_spec)]


def addresses(raw: str) -> list[str]:
    """Zoho sends address lists as text, often HTML-escaped: '&lt;a@b.com&gt;,"Name" <c@d.com>'."""
    try:
        try:
            pairs = _mailboxes(raw)
        except _UNREADABLE:  # a CR or LF inside an address: keep what the lenient parser finds
            pairs = [(name, addr) for name, addr in getaddresses([html_lib.unescape(raw or "")])
                     if "\r" not in addr and "\n" not in addr]
    except RecursionError:  # the parsers recurse per nested '(' comment: thousands of them
        raise InvalidPayload("an address list is not readable (too deeply nested comments)") from None
    return [addr.lower() for _, addr in pairs if "@" in addr]


def _sender(raw: str) -> tuple[str, str]:
    """(display name, address) of the one sender a From field names, or InvalidPayload saying why not."""
    try:
        mailboxes = _mailboxes(raw)
    except RecursionError:
        raise InvalidPayload("field 'fromAddress' cannot be read: comments nested too deeply") from None
    except _UNREADABLE:
        # A name whose encoded words hide a CR/LF: read leniently below. A raw CR/LF is refused: the
        # lenient parser would take an address from the line after it.
        if any(ord(c) < 32 or ord(c) == 127 for c in raw):
            raise InvalidPayload(f"field 'fromAddress' is not an email address: {raw[:100]!r}") from None
        mailboxes = []
    if not mailboxes:
        # What RFC 5322 cannot read ("Ada [Shop] <ada@x.com>") the lenient parser may still; else refused.
        name, address = parseaddr(html_lib.unescape(raw))
        if "@" not in address or any(ord(c) < 32 for c in address):
            raise InvalidPayload(f"field 'fromAddress' is not an email address: {raw[:100]!r}")
        mailboxes = [(name, address)]
    if len(mailboxes) > 1:
        # Whom would the reply go to, and who takes part in the thread? Kept failed for an agent to read.
        raise InvalidPayload(f"field 'fromAddress' names {len(mailboxes)} senders; expected one: {raw[:100]!r}")
    name, address = mailboxes[0]
    return _display_name(name), address


def _display_name(name: str) -> str:
    """A sender's name as one line of visible text: encoded words decoded, then line breaks, controls
    and invisible characters (a U+202E that reverses the rest of a queue row) dropped."""
    if "=?" in name:
        try:
            name = str(make_header(decode_header(name)))
        except (*_UNREADABLE, LookupError, UnicodeError):
            pass  # shown as sent: still text
    visible = "".join(" " if unicodedata.category(c) == "Cc" else c for c in name
                      if unicodedata.category(c) != "Cf")
    return " ".join(visible.split())


def html_to_text(raw_html: str) -> str:
    # Scripts, styles and event handlers are gone before we read it (and nesting no sanitizer chokes on).
    clean = nh3.clean(html_nesting_capped(raw_html))
    if not clean.strip():
        return ""
    doc = lxml.html.fromstring(f"<div>{clean}</div>")
    for element in doc.iter(*_BLOCKS):
        element.tail = "\n" + (element.tail or "")
    for element in doc.iter("blockquote"):  # quoted history starts on its own line ("wrote:" then the quote)
        element.text = "\n" + (element.text or "")
    for cell in doc.iter("td", "th"):  # table cells stay apart: "Item | Qty", not "ItemQty"
        cell.tail = " | " + (cell.tail or "")
    for link in doc.iter("a"):  # where a link leads is part of what the customer said
        href = (link.get("href") or "").strip()
        if href.startswith(("http://", "https://")) and href not in link.text_content():
            link.tail = f" <{href}>" + (link.tail or "")
    lines = [" ".join(line.split()).removesuffix(" |") for line in doc.text_content().splitlines()]
    return "\n".join(line for line in lines if line).strip()


def _attachments(client: ZohoClient | None, folder_id: str, message_id: str) -> list[dict]:
    if client is None:
        return []
    stored = []
    for info in client.attachments_info(folder_id=folder_id, message_id=message_id):
        size = int(info.get("attachmentSize") or 0)
        # Kept as it will be served: no path, no bidi override to show "invoice\u202egpj.exe" as a .jpg.
        name = attachment_filename(str(info.get("attachmentName") or ""))
        entry = {"name": name, "size": size, "zoho_attachment_id": info["attachmentId"],
                 "content_type": mimetypes.guess_type(name)[0] or _GENERIC_TYPE}
        if size > MAX_ATTACHMENT_BYTES:
            entry["skipped"] = f"larger than {MAX_ATTACHMENT_BYTES} bytes"
        else:
            download = client.attachment_download(folder_id=folder_id, message_id=message_id,
                                                  attachment_id=info["attachmentId"])
            blob = blob_put(download.content, prefix="attachments")
            entry.update(blob_key=blob.key, sha256=blob.sha256, size=blob.size)
            if download.content_type != _GENERIC_TYPE:
                entry["content_type"] = download.content_type  # what Zoho says beats a guess from the name
        stored.append(entry)
    return stored


def _rfc_headers(client: ZohoClient, folder_id: str, message_id: str) -> dict:
    """The RFC headers, for threading and triage: when Zoho refuses them for good the message is still
    ingested (by thread id or as a new conversation, triaged on its text alone); a transient failure
    propagates for a retry."""
    try:
        return without_nul(client.message_headers(folder_id=folder_id, message_id=message_id) or {})
    except ZohoError as exc:
        if not exc.permanent:
            raise
        logger.warning("zoho message %s: no RFC headers (%s); threading by thread id only", message_id, exc)
        return {}


def sent_by_us(*, from_address: str, folder_id: str) -> bool:
    """Our own mail: from one of our addresses AND in our Sent folder. A From header is the sender's
    claim (anyone can write support@ in it); only the folder Zoho filed the message in is ours to say.
    Our address on a message anywhere else is a forgery: ingested as inbound, which triage sets apart
    as spam and which joins no conversation (conversations.services.threads)."""
    return (from_address.strip().lower() in settings.ZOHO_OWN_ADDRESSES
            and bool(folder_id) and folder_id == settings.ZOHO_SENT_FOLDER)


def _known_thread(thread_id: str) -> bool:
    return bool(thread_id) and Conversation.objects.filter(channel="email", external_thread_id=thread_id).exists()


def zoho_message_facts(payload: dict, *, client: ZohoClient | None = None) -> MessageFacts:
    """Normalize one Zoho message dict (as `zoho_payload_parse` returns it: without NULs); fetch what
    the payload lacks (content, headers, attachments)."""
    message_id = _str_field(payload, "messageId", required=True)
    folder_id = _str_field(payload, "folderId")
    from_name, from_address = _sender(_str_field(payload, "fromAddress", required=True))
    for name in ("subject", "summary", "content", "html"):
        if payload.get(name) is not None and not isinstance(payload.get(name), str):
            raise InvalidPayload(f"field {name!r} must be a string, not {type(payload[name]).__name__}")
    raw_html = payload.get("html") or payload.get("content") or ""
    if not raw_html and client is not None and folder_id:
        raw_html = without_nul(client.message_content(folder_id=folder_id, message_id=message_id))
    in_reply_to = _str_field(payload, "inReplyTo")
    references = _str_field(payload, "references")
    rfc_id = _str_field(payload, "rfcMessageId") or _str_field(payload, "messageIdString")
    thread_id = _str_field(payload, "threadId")
    inbound = not sent_by_us(from_address=from_address, folder_id=folder_id)
    headers: dict = {}
    if client is not None and folder_id and (
            inbound or (not in_reply_to and not references and not _known_thread(thread_id))):
        headers = _rfc_headers(client, folder_id, message_id)
        pick = lambda key: str(next((v for k, v in headers.items() if k.lower() == key), "") or "")  # noqa: E731
        if not in_reply_to and not references:
            in_reply_to, references = pick("in-reply-to"), pick("references")
        rfc_id = rfc_id or pick("message-id")
    has_attachment = str(payload.get("hasAttachment", "0")) in {"1", "true", "True"}
    raw_html = html_nesting_capped(raw_html)  # before both cleanings below (omnichannel/html_depth.py)
    body_html = nh3.clean(raw_html) if raw_html else ""
    return MessageFacts(
        channel="email",
        direction="inbound" if inbound else "outbound",
        external_msg_id=message_id, external_thread_id=thread_id, rfc_message_id=rfc_id,
        in_reply_to=in_reply_to, references=references, from_address=from_address.lower(),
        from_name=from_name or _str_field(payload, "sender"),
        to_addresses=addresses(_str_field(payload, "toAddress")), cc_addresses=addresses(_str_field(payload, "ccAddress")),
        subject=_BIDI_CONTROLS.sub("", _str_field(payload, "subject")),
        body=html_to_text(raw_html) if raw_html else _str_field(payload, "summary"),
        body_html=body_html,
        attachments=_attachments(client, folder_id, message_id) if has_attachment and folder_id else [],
        raw_payload=payload, sent_at=_sent_at(payload), headers=headers,
    )


def zoho_message_ingest(payload: dict, *, client: ZohoClient | None = None) -> tuple[Message | None, bool]:
    """The message and whether it was created; (None, False) when it was sent before its customer's
    erasure and is therefore not kept (conversations.services.threads.message_ingest). `payload` is a
    message dict as `zoho_payload_parse` returns it (NULs removed: Postgres refuses them)."""
    # Already stored (webhook and poll racing, a replay): nothing to fetch, nothing to write.
    existing = Message.objects.filter(external_msg_id=_str_field(payload, "messageId", required=True)).first()
    if existing is not None:
        return existing, False
    facts = zoho_message_facts(payload, client=client)  # network calls: outside any transaction
    customer = None
    if facts.direction == "inbound" and facts.from_address not in settings.ZOHO_OWN_ADDRESSES:
        # (A forged From with our own address is no customer: no lead is made of our mailbox.)
        customer, _ = customer_get_or_create_lead(email=facts.from_address, name=facts.from_name, integration="zoho",
                                                  seen_at=facts.sent_at)
    message, created = message_ingest(facts=facts, customer=customer, integration="zoho")
    if created:
        records_ingested_total.labels(source="zoho", kind="message").inc()
    return message, created


def _handle(delivery: WebhookDelivery, payload: dict, client: ZohoClient | None) -> tuple[Message | None, bool]:
    return zoho_message_ingest(payload, client=client or ZohoClient.from_settings())


def _finished(delivery: WebhookDelivery, payload: dict, result: tuple[Message | None, bool]) -> str:
    message, created = result
    if message is None or message.is_erased:
        # About an erased customer (sent before the erasure), or a redelivery of an erased or archived
        # message: the raw bytes would hold what the erasure or the archive took away.
        webhook_delivery_erase(delivery_id=delivery.pk, reason="erased customer" if message is None
                               else "erased message")
        return "erased"
    return f"message {message.pk} {'created' if created else 'existing'}"


ZOHO_DELIVERIES = DeliverySource(
    name="zoho", parse=lambda delivery: zoho_payload_parse(delivery.body), handle=_handle, finished=_finished,
    invalid=(InvalidPayload,), transient=(ZohoError, requests.RequestException),
)


def process_incoming_email(delivery_id: int, *, client: ZohoClient | None = None, replay: bool = False) -> str:
    """Ingest one stored Zoho delivery (webhook or poll) through the delivery pipeline
    (integrations/deliveries.py: the claim, the lease, what is recorded and what is raised for a retry).
    Its body is parsed once, here; the webhook view parsed it only to key the delivery."""
    return delivery_process(ZOHO_DELIVERIES, delivery_id, client=client, replay=replay)
