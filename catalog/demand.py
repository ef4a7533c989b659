"""Demand: what customers ask for that the shop does not sell, counted and trended per ISO week.

Requests are recognised in inbound mail by the assistant (intent `product_request`, or an
availability question about an item out of stock) and kept as `ProductRequest` rows: one per
conversation and normalized description, counting each inbound message once. `mine_demand`
reports a week: count per description, the mean of the previous four weeks, and a trend score
`(count - mean) / (mean + 1)` (positive: rising), as a CSV also kept in the blob store.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Sum

from catalog.models import InventoryItem, ProductRequest
from catalog.selectors import demand_report_key
from omnichannel.audit import audit_log_write
from omnichannel.blobstore import blob_put_named
from omnichannel.errors import InvalidPayload
from omnichannel.task_names import TaskName

_ASK = re.compile(
    r"(?:do (?:you|you guys|you all|y'all|ya)(?: also| still| ever| even)? (?:sell|carry|stock|have|make)|"
    r"(?:does|do) (?:the|your) (?:shop|store) (?:sell|carry|stock|have)|are you (?:going|planning) to (?:sell|stock)|"
    r"any plans to (?:sell|stock)|will you (?:sell|stock)|would you stock|"
    r"please (?:start selling|stock)|i wish you sold|looking for|can't find any|cannot find any)\s+"
    r"(?:any |some |an |a |the )?([a-z0-9][a-z0-9 \-]{1,60}?)(?=[?.!,;]|$| for | in | on | at | so | i )", re.I)
_STOP = {"any", "some", "a", "an", "the", "please", "more"}
# "Do you have my address right?", "do you have any update", "do you have it in blue?": not a product named.
_NOT_NAMED = {"my", "your", "our", "it", "its", "this", "that", "them", "these", "those", "update", "updates", "news",
              "idea", "time", "info", "information"}
# "I would like a catalogue. Do you have one?", "do you have any in stock?": only words pointing back, no product.
_POINTING = {"one", "ones", "anything", "something", "in", "stock", "left"}


def request_normalize(text: str) -> str | None:
    """'Do you sell inflatable kayaks?' -> 'inflatable kayak'; None when nothing is named."""
    match = _ASK.search(" ".join(text.split()))
    if not match:
        return None
    words = [w for w in match.group(1).lower().split() if w not in _STOP]
    if not words or words[0] in _NOT_NAMED or all(w in _POINTING for w in words):
        return None
    last = words[-1]
    if last.endswith("ies") and len(last) > 4:
        words[-1] = last[:-3] + "y"
    elif last.endswith("s") and not last.endswith("ss") and len(last) > 3:
        words[-1] = last[:-1]
    return " ".join(words)[:200]


def variant_request_record(*, description: str, customer_id: int | None, conversation_id: int | None,
                           requested_at: datetime, message_id: int | None = None) -> ProductRequest:
    """A size or colour of an item the shop sells that it does not make ("Trail hiking boots in size 48")."""
    normalized = f"{' '.join(description.lower().split())} (not made)"[:200]
    return _request_count(normalized=normalized, description=description, customer_id=customer_id,
                          conversation_id=conversation_id, requested_at=requested_at, message_id=message_id)


RECORDED_EVENT = "demand.request_recorded"


def product_request_record(*, text: str, customer_id: int | None, conversation_id: int | None,
                           requested_at: datetime, message_id: int | None = None) -> ProductRequest | None:
    """Something named in a product request email ("Do you sell kayaks?"); None when nothing is named."""
    normalized = request_normalize(text)
    if normalized is None:
        return None
    return _request_count(normalized=normalized, description=text, customer_id=customer_id,
                          conversation_id=conversation_id, requested_at=requested_at, message_id=message_id)


def stockout_request_record(*, item_id: int, text: str, customer_id: int | None, conversation_id: int | None,
                            requested_at: datetime, message_id: int | None = None) -> ProductRequest | None:
    """An availability question about an item we track and have none of is demand too; None when in
    stock, or when its stock is unknown (Shopify has not stated it)."""
    item = InventoryItem.objects.filter(pk=item_id).only("sku", "title", "quantity_available", "tracked").first()
    if item is None or not item.tracked or item.quantity_available is None or item.quantity_available > 0:
        return None
    normalized = f"{' '.join((item.title or item.sku).lower().split())} (out of stock)"[:200]
    return _request_count(normalized=normalized, description=text, customer_id=customer_id,
                          conversation_id=conversation_id, requested_at=requested_at, message_id=message_id)


def _request_count(*, normalized: str, description: str, customer_id: int | None, conversation_id: int | None,
                   requested_at: datetime, message_id: int | None, retry: bool = True) -> ProductRequest:
    """One row per conversation and request, counting each message once: re-drafting or replaying a
    message must not inflate demand. The row keeps the ids of the messages it counted (its own state: the
    audit row per counted message is the record, never consulted); the locked row serializes two workers
    counting the same request."""
    try:
        with transaction.atomic():
            request, created = ProductRequest.objects.select_for_update().get_or_create(
                conversation_id=conversation_id, normalized=normalized,
                defaults={"customer_id": customer_id, "description": description[:2000], "requested_at": requested_at,
                          "counted_message_ids": [] if message_id is None else [message_id]})
            if not created:
                if message_id is None or message_id in request.counted_message_ids:
                    return request  # this message is already in the count (or, unnamed, the conversation is)
                ProductRequest.objects.filter(pk=request.pk).update(
                    count=F("count") + 1, counted_message_ids=[*request.counted_message_ids, message_id])
                request.refresh_from_db(fields=["count", "counted_message_ids"])
            audit_log_write(event_type=RECORDED_EVENT, integration="demand", obj=request,
                            payload={"message_id": message_id, "normalized": normalized, "count": request.count})
    except IntegrityError:  # another worker created the row first: count this message against it
        if not retry:
            raise
        return _request_count(retry=False, normalized=normalized, description=description, customer_id=customer_id,
                              conversation_id=conversation_id, requested_at=requested_at, message_id=message_id)
    return request


def week_bounds(week: str) -> tuple[datetime, datetime]:
    match = re.fullmatch(r"(\d{4})-W(\d{2})", week)
    if not match:
        raise InvalidPayload(f"week {week!r} must look like 2026-W47")
    try:
        monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError as exc:
        raise InvalidPayload(f"week {week!r}: {exc}") from None
    start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    return start, start + timedelta(days=7)


@dataclass(frozen=True)
class DemandRow:
    normalized: str
    count: int
    previous_mean: float
    trend_score: float


def _counts(start: datetime, end: datetime) -> dict[str, int]:
    return {row["normalized"]: row["total"] for row in ProductRequest.objects.filter(
        requested_at__gte=start, requested_at__lt=end).values("normalized").annotate(total=Sum("count"))}


def demand_mine(*, week: str) -> tuple[list[DemandRow], str, str]:
    """(rows, csv text, blob key) for one ISO week."""
    start, end = week_bounds(week)
    current = _counts(start, end)
    history = [_counts(start - timedelta(weeks=n), end - timedelta(weeks=n)) for n in range(1, 5)]
    rows = []
    for normalized, count in current.items():
        mean = sum(h.get(normalized, 0) for h in history) / 4
        rows.append(DemandRow(normalized, count, round(mean, 2), round((count - mean) / (mean + 1), 3)))
    rows.sort(key=lambda r: (-r.count, -r.trend_score, r.normalized))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["week", "request", "count", "previous_4_week_mean", "trend_score"])
    for r in rows:
        writer.writerow([week, r.normalized, r.count, f"{r.previous_mean:.2f}", f"{r.trend_score:.3f}"])
    key = blob_put_named(demand_report_key(week), out.getvalue().encode())
    with transaction.atomic():
        for r in rows:
            ProductRequest.objects.filter(normalized=r.normalized, requested_at__gte=start,
                                          requested_at__lt=end).update(trend_score=r.trend_score)
        audit_log_write(event_type="demand.mined", integration=TaskName.MINE_DEMAND,
                        payload={"week": week, "requests": len(rows), "blob_key": key})
    return rows, out.getvalue(), key


def last_full_week(now: datetime | None = None) -> str:
    year, number, _ = ((now or datetime.now(UTC)) - timedelta(weeks=1)).isocalendar()
    return f"{year}-W{number:02d}"
