"""What every webhook endpoint does the same way: store the raw delivery first, then answer.

2xx only once the raw bytes are durably in `webhook_deliveries`; 503 when the database cannot
take them, so the sender retries instead of believing we have the event.

A body over WEBHOOK_MAX_BODY_BYTES is answered 413 but, once its signature checks out, kept as
a failed delivery naming the size and the limit, so an operator can replay it. It is kept in
`body` like any other (not in the blob store) because erasure (`omnichannel.pii`) searches
`body` for a customer's address and replay reads `body`; a blob would escape both. It is read
in chunks, once, and only up to OVERSIZED_KEEP_FACTOR times the limit: past that it is refused
unread and only logged, since bytes that size are an attack or a bug, not an email.
"""

from __future__ import annotations

import hmac
import logging
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import JsonResponse

from integrations.intake import delivery_wake
from omnichannel.errors import ApplicationError
from omnichannel.log_redaction import signature_header
from omnichannel.metrics import webhook_deliveries_total
from omnichannel.models import WebhookDelivery
from omnichannel.upserts import unique_violation
from omnichannel.webhook_deliveries import webhook_delivery_finish, webhook_delivery_insert

logger = logging.getLogger(__name__)
_KEPT_HEADERS = ("content-type", "user-agent", "x-request-id")
OVERSIZED_KEEP_FACTOR = 4
_READ_CHUNK = 64 * 1024
# Control characters in a header value: a NUL makes Postgres refuse the whole row (text and jsonb
# alike), which answered 503 and lost the delivery to the sender's retries; CR/LF have no place in
# a topic or an id. Replaced before storing, so the row is always written.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The database went away or timed out mid-processing, or gave up on a transaction that collided
# with another (a deadlock or a serialization failure is an OperationalError in Django): worth a
# retry, unlike a value it refuses.
TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError)


def db_error_is_transient(exc: BaseException) -> bool:
    """A database error worth retrying: one of TRANSIENT_DB_ERRORS, or a unique violation. Our
    upserts let the database decide on their key, but a second unique column (a customer's
    email, an item's inventory item id) can still collide with a row another worker is writing
    or has not moved away from yet (an address changed on one customer, taken by another): the
    next attempt sees that row committed. A value the database refuses (a check constraint, a
    NOT NULL, bad data) is not retried: it is kept for replay."""
    if isinstance(exc, TRANSIENT_DB_ERRORS):
        return True
    return unique_violation(exc)


def signature_matches(expected: str, given: str) -> bool:
    """Constant-time compare of a base64 signature; `given` comes from a header and may hold any
    character, which `hmac.compare_digest` refuses on str: compare bytes instead."""
    return hmac.compare_digest(expected.encode(), given.strip().encode("utf-8", "replace"))


def header_text(value: str) -> str:
    """A header value as it can be stored: control characters replaced by U+FFFD."""
    return _CONTROL.sub("\ufffd", value)


def header_problem(name: str, value: str) -> str:
    """Why a header we key or route on cannot be taken as sent, or ""."""
    return f"header {name} holds a control character" if _CONTROL.search(value) else ""


def kept_headers(request, extra_prefixes: tuple[str, ...] = ()) -> dict:
    """The headers worth keeping with a delivery (never cookies, authorization or the signature: a body
    kept with its signature is a delivery anyone who can read it could send again)."""
    kept = {}
    for name, value in request.headers.items():
        lowered = name.lower()
        if (lowered in _KEPT_HEADERS or lowered.startswith(extra_prefixes)) and not signature_header(lowered):
            kept[lowered] = header_text(value)
    return kept


def body_too_big(request) -> int | None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    return length if length > settings.WEBHOOK_MAX_BODY_BYTES else None


def body_too_big_to_keep(size: int) -> bool:
    return size > settings.WEBHOOK_MAX_BODY_BYTES * OVERSIZED_KEEP_FACTOR


def oversized_body_read(request) -> bytes:
    """Read an over-limit body from the stream in chunks (Django's `request.body` refuses anything
    over DATA_UPLOAD_MAX_MEMORY_SIZE), bounded by Content-Length and the keep ceiling."""
    ceiling = settings.WEBHOOK_MAX_BODY_BYTES * OVERSIZED_KEEP_FACTOR
    received = bytearray()
    while len(received) <= ceiling and (chunk := request.read(min(_READ_CHUNK, ceiling + 1 - len(received)))):
        received += chunk
    return bytes(received)


def too_large_refused(*, source: str, size: int) -> JsonResponse:
    """Past the keep ceiling: not read, not stored (nothing proves who sent it); logged for Ops."""
    logger.error("webhook %s: body of %d bytes refused unread (limit %d, kept up to %d)", source, size,
                 settings.WEBHOOK_MAX_BODY_BYTES, settings.WEBHOOK_MAX_BODY_BYTES * OVERSIZED_KEEP_FACTOR)
    webhook_deliveries_total.labels(source=source, status="too_large").inc()
    return JsonResponse({"error": f"body of {size} bytes exceeds {settings.WEBHOOK_MAX_BODY_BYTES} bytes"}, status=413)


def oversized_store(*, source: str, topic: str, external_id: str, headers: dict, body: bytes) -> JsonResponse:
    """An authenticated body over the limit: kept as a failed delivery with the reason, answered 413."""
    reason = (f"body of {len(body)} bytes exceeds the limit of {settings.WEBHOOK_MAX_BODY_BYTES} bytes "
              "(WEBHOOK_MAX_BODY_BYTES); kept unprocessed, replay it with replay_webhooks --failed")
    delivery_id, _created, unavailable = store_or_503(source=source, topic=topic, external_id=external_id,
                                                      headers=headers, body=body, invalid_reason=reason,
                                                      metric_status="too_large")
    if unavailable:
        return unavailable
    return JsonResponse({"error": reason, "delivery_id": delivery_id}, status=413)


def failure_reason(exc: BaseException) -> str:
    """What to record on a failed delivery: our validation message as is, else the type and message."""
    if isinstance(exc, ApplicationError):
        return exc.message
    if isinstance(exc, ValidationError):
        details = ([f"{name}: {' '.join(msgs)}" for name, msgs in exc.message_dict.items()]
                   if hasattr(exc, "error_dict") else exc.messages)
        return "ValidationError: " + "; ".join(details)
    return f"{type(exc).__name__}: {exc}"


def delivery_failed(*, delivery_id: int, exc: BaseException) -> str:
    """Record a processing failure on the delivery (replayable once the cause is fixed). When the
    database itself is failing this cannot be written: the delivery stays `processing` and the
    stalled-delivery sweep (integrations/replay.py) re-queues it."""
    reason = failure_reason(exc)
    try:
        webhook_delivery_finish(delivery_id=delivery_id, status=WebhookDelivery.Status.FAILED, error=reason)
    except DatabaseError as db_exc:
        logger.error("delivery %s failed (%s) and the failure could not be recorded: %s", delivery_id, reason, db_exc)
    return reason


def store_or_503(*, source: str, topic: str, external_id: str, headers: dict, body: bytes, invalid_reason: str = "",
                 metric_status: str = "invalid") -> tuple[int | None, bool, JsonResponse | None]:
    """Store a delivery: (its id, created, None), or on a database failure (None, False, the 503 to send)."""
    try:
        delivery_id, created = _store_on_a_live_connection(source=source, topic=topic, external_id=external_id,
                                                           headers=headers, body=body)
        if created and invalid_reason:
            webhook_delivery_finish(delivery_id=delivery_id, status=WebhookDelivery.Status.FAILED, error=invalid_reason)
    except DatabaseError as exc:
        logger.error("webhook %s could not be stored: %s", source, exc)
        webhook_deliveries_total.labels(source=source, status="unavailable").inc()
        return None, False, JsonResponse({"error": "storage unavailable, retry later"}, status=503)
    webhook_deliveries_total.labels(source=source, status="duplicate" if not created else (
        metric_status if invalid_reason else "accepted")).inc()
    return delivery_id, created, None


def delivery_accept(*, source: str, topic: str, external_id: str, headers: dict, body: bytes,
                    invalid_reason: str = "") -> JsonResponse:
    """A verified delivery stored and answered: 200 (accepted, or a duplicate of one stored), 400 for an
    invalid one (kept as a failed delivery, replayable once the cause is fixed: the sender learns why),
    503 when it could not be stored. A new valid one wakes the drain that sends it to its processing task."""
    delivery_id, created, unavailable = store_or_503(source=source, topic=topic, external_id=external_id,
                                                     headers=headers, body=body, invalid_reason=invalid_reason)
    if unavailable:
        return unavailable
    if invalid_reason:
        return JsonResponse({"error": invalid_reason, "delivery_id": delivery_id}, status=400)
    if created:
        delivery_wake()  # integrations/intake.py
    return JsonResponse({"status": "accepted" if created else "duplicate", "delivery_id": delivery_id})


def _store_on_a_live_connection(**delivery) -> tuple[int, bool]:
    """The store is the only query of an accepted webhook, and Django's CONN_HEALTH_CHECKS would
    add a `SELECT 1` round trip before it on every request. Intake skips that check and instead,
    when the connection it kept from an earlier request turns out dead (a database restart), tries
    its one idempotent INSERT once more on a new connection: the same outcome for the sender, paid
    only when it happens. Not inside a transaction, whose work a reconnect would lose."""
    kept = connection.connection is not None and not connection.in_atomic_block
    connection.health_check_done = True  # Django's flag for "checked in this request" (base/base.py)
    try:
        return webhook_delivery_insert(**delivery)
    except TRANSIENT_DB_ERRORS:
        if not kept:
            raise
        connection.close()
        return webhook_delivery_insert(**delivery)
