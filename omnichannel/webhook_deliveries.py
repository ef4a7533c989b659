"""The raw inbox: store every webhook or poll payload before processing it."""

from __future__ import annotations

import functools
import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from omnichannel import correlation
from omnichannel.audit import audit_log_write
from omnichannel.leases import lease_kept, lease_until
from omnichannel.metrics import webhook_deliveries_total
from omnichannel.models import WebhookDelivery


def webhook_delivery_store(
    *, source: str, topic: str, external_id: str, headers: dict, body: bytes
) -> tuple[WebhookDelivery, bool]:
    """Store a delivery once per (source, external_id). Returns (delivery, created): the row read back
    after `webhook_delivery_insert`, for callers that go on with it (the Zoho poll)."""
    delivery_id, created = webhook_delivery_insert(source=source, topic=topic, external_id=external_id,
                                                   headers=headers, body=body)
    return WebhookDelivery.objects.get(pk=delivery_id), created


KEY_CHARS = 200  # WebhookDelivery.external_id


def delivery_key(external_id: str) -> str:
    """The dedupe key as stored: an id longer than the column keeps its start and a hash of the whole, so two
    long ids that share their first 200 characters stay two deliveries (cut, the second was a "duplicate")."""
    if len(external_id) <= KEY_CHARS:
        return external_id
    return f"{external_id[:KEY_CHARS - 72]}…sha256:{hashlib.sha256(external_id.encode()).hexdigest()}"


def webhook_delivery_insert(*, source: str, topic: str, external_id: str, headers: dict, body: bytes) -> tuple[int, bool]:
    """Store a delivery once per (source, external_id). Returns (id, created): all the webhook views need.

    One `INSERT … ON CONFLICT DO NOTHING RETURNING` (in autocommit: one round trip, durable when it
    returns) instead of a transaction around `create()`: this is the whole of a webhook's work in the
    request. No model instance is built and the columns that only take their defaults are prepared once
    per process (a third of the view's own CPU). A conflict raises nothing, so it also works inside a
    caller's transaction."""
    db = connections[DEFAULT_DB_ALIAS]
    sql, fields = _insert_sql(db.vendor)
    external_id = delivery_key(external_id)
    given = {"source": source, "topic": topic[:100], "external_id": external_id, "headers": headers,
             "body": bytes(body), "correlation_id": correlation.ensure(), "received_at": timezone.now()}
    given["updated_at"] = given["received_at"]
    constant = _constant_values(db.vendor)
    values = [constant[f.name] if f.name in constant else f.get_db_prep_save(given[f.name], db) for f in fields]
    with _intake_cursor(db) as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:  # a redelivery of something we already hold: harmless, nothing to do
        return WebhookDelivery.objects.values_list("pk", flat=True).get(source=source, external_id=external_id), False
    return row[0], True


@functools.cache
def _insert_sql(vendor: str) -> tuple[str, list]:
    del vendor  # the cache key: the quoting below is the connection's
    fields = [f for f in WebhookDelivery._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    # Identifiers from the model's own meta, values as parameters: nothing here comes from a request.
    sql = (f"INSERT INTO {quote(WebhookDelivery._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(fields))}) "
           f"ON CONFLICT ({quote('source')}, {quote('external_id')}) DO NOTHING RETURNING {quote('id')}")
    return sql, fields


@functools.cache
def _constant_values(vendor: str) -> dict:
    """The prepared default of every column a new delivery does not set (status, attempts, …)."""
    del vendor  # the cache key: the values are prepared for the connection's backend
    given = {"source", "topic", "external_id", "headers", "body", "correlation_id", "received_at", "updated_at"}
    db = connections[DEFAULT_DB_ALIAS]
    return {f.name: f.get_db_prep_save(f.get_default(), db) for f in _insert_sql(db.vendor)[1] if f.name not in given}


def _intake_cursor(db):
    """On Postgres, a server-side-binding psycopg cursor in Django's wrapper (errors as Django's,
    execute wrappers still run): Django's default client-side binding escapes the whole body into
    the SQL text, the largest CPU cost of a webhook request, and never lets psycopg prepare the
    statement. Only this one fixed INSERT uses it."""
    if db.vendor != "postgresql":
        return db.cursor()
    import psycopg  # Postgres only: the embedded mode runs on SQLite

    db.ensure_connection()
    return db.make_cursor(psycopg.Cursor(db.connection))


def webhook_delivery_takeable(*, now, retry_failed: bool = False) -> Q:
    """Deliveries a worker may claim now: not yet started (or failed, with `retry_failed`), or
    `processing` by a worker whose lease ran out (killed: omnichannel/leases.py). A live lease is a
    worker still on it, and is never taken over."""
    allowed = [WebhookDelivery.Status.RECEIVED, WebhookDelivery.Status.QUEUED]
    if retry_failed:
        allowed.append(WebhookDelivery.Status.FAILED)
    return Q(status__in=allowed) | webhook_delivery_lease_expired(now=now)


def webhook_delivery_lease_expired(*, now) -> Q:
    """`processing` with an expired lease. A row claimed before leases existed has none: its worker
    is gone once the hard task time limit has passed since it was last touched."""
    legacy = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    return Q(status=WebhookDelivery.Status.PROCESSING) & (
        Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True, updated_at__lt=legacy))


def webhook_delivery_claim(*, delivery_id: int, retry_failed: bool = False) -> bool:
    """Move a delivery to `processing` under a new lease (one more attempt); False when it is not
    takeable now: done, ignored, failed without `retry_failed`, or `processing` under a live lease.

    Takes a `received` or `queued` delivery, a `failed` one only with `retry_failed` (a replay, a
    task's retry), and one already `processing` only once its lease has expired (its worker was
    killed and stopped renewing: `webhook_delivery_takeable`). A conditional UPDATE that must touch
    exactly one row: the claim is atomic without locks. The caller keeps the lease alive while it
    works (`webhook_delivery_lease_kept`); a worker that stalls past its lease without being killed
    can be taken over, and its renewals then fail (fenced by the attempt number).
    """
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        Q(pk=delivery_id) & webhook_delivery_takeable(now=now, retry_failed=retry_failed)).update(
        status=WebhookDelivery.Status.PROCESSING, attempts=F("attempts") + 1, lease_expires_at=lease_until(now),
        updated_at=now)
    return claimed == 1


def webhook_delivery_lease_kept(*, delivery: WebhookDelivery):
    """The heartbeat of a claimed delivery (`delivery` as loaded right after the claim: its attempt
    number fences the renewal, so a worker whose lease expired cannot extend its successor's)."""
    def renew() -> bool:
        return WebhookDelivery.objects.filter(
            pk=delivery.pk, status=WebhookDelivery.Status.PROCESSING, attempts=delivery.attempts,
        ).update(lease_expires_at=lease_until()) == 1

    return lease_kept(renew, name=f"webhook delivery {delivery.pk}")


def webhook_delivery_finish(*, delivery_id: int, status: str, error: str = "") -> None:
    if status in (WebhookDelivery.Status.FAILED, WebhookDelivery.Status.PROCESSED):
        source = WebhookDelivery.objects.filter(pk=delivery_id).values_list("source", flat=True).first() or "unknown"
        webhook_deliveries_total.labels(source=source, status=status).inc()
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        status=status,
        last_error=error[:5000],
        processed_at=timezone.now(),
        updated_at=timezone.now(),
        lease_expires_at=None,
    )


@transaction.atomic
def webhook_delivery_erase(*, delivery_id: int, reason: str) -> bool:
    """Blank a processed delivery's raw bytes and headers (its row, topic and ids stay): what an
    erased customer's later deliveries keep. Returns False when it was blanked already."""
    erased = WebhookDelivery.objects.filter(pk=delivery_id, is_erased=False).update(
        body=b"", headers={}, is_erased=True, updated_at=timezone.now())
    if erased:
        audit_log_write(event_type="webhook_delivery.erased", integration="erasure",
                        payload={"delivery_id": delivery_id, "reason": reason})
    return bool(erased)
