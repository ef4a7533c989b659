"""The model_quality read model (assistants/migrations/0003): how good and how costly the drafts are.

Per ISO week, channel and confidence bucket. The view keeps counts and sums; the rates and means
here are shares of what they describe: approve/edit/reject rates of the drafts agents decided (a
pending or superseded draft is not decided), mean latency of the drafts that have a model run,
mean edit size (changed lines) of the edits whose diff is still there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection

BUCKETS = ("low", "medium", "high")
_COLUMNS = ["week", "channel", "confidence_bucket", "drafts", "model_runs", "tokens_in", "tokens_out", "cost_usd",
            "latency_ms_sum", "decided", "approved", "edited", "rejected", "edits_measured", "edit_lines_sum"]


@dataclass(frozen=True)
class ModelQuality:
    week: date  # the Monday of the ISO week
    iso_week: str  # "2026-W45"
    channel: str
    confidence_bucket: str
    drafts: int
    tokens_in: int
    tokens_out: int
    cost_usd: Decimal
    mean_latency_ms: float | None
    decided: int
    approved: int
    edited: int
    rejected: int
    approve_rate: float | None
    edit_rate: float | None
    reject_rate: float | None
    mean_edit_lines: float | None


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _from_row(row) -> ModelQuality:
    data = dict(zip(_COLUMNS, row, strict=True))
    week = data["week"] if isinstance(data["week"], date) else date.fromisoformat(data["week"])
    year, number, _ = week.isocalendar()
    decided = int(data["decided"])
    return ModelQuality(
        week=week, iso_week=f"{year}-W{number:02d}", channel=data["channel"],
        confidence_bucket=data["confidence_bucket"], drafts=int(data["drafts"]), tokens_in=int(data["tokens_in"]),
        tokens_out=int(data["tokens_out"]),
        cost_usd=Decimal(str(data["cost_usd"])).quantize(Decimal("0.000001")),
        mean_latency_ms=(round(int(data["latency_ms_sum"]) / data["model_runs"], 1) if data["model_runs"] else None),
        decided=decided, approved=int(data["approved"]), edited=int(data["edited"]), rejected=int(data["rejected"]),
        approve_rate=_share(int(data["approved"]), decided), edit_rate=_share(int(data["edited"]), decided),
        reject_rate=_share(int(data["rejected"]), decided),
        mean_edit_lines=(round(int(data["edit_lines_sum"]) / data["edits_measured"], 2)
                         if data["edits_measured"] else None),
    )


def model_quality_list(*, week_from: date | None = None, week_to: date | None = None, channel: str | None = None,
                       confidence_bucket: str | None = None) -> list[ModelQuality]:
    """Rows of the read model, newest week first, then channel, then low/medium/high. `week_from`
    and `week_to` may be any day: each stands for its ISO week, and both weeks are included."""
    if confidence_bucket is not None and confidence_bucket not in BUCKETS:
        raise ValueError(f"confidence_bucket must be one of {', '.join(BUCKETS)}, got {confidence_bucket!r}")
    where, params = [], []
    if week_from is not None:
        where.append("week >= %s")
        params.append(week_start(week_from))
    if week_to is not None:
        where.append("week <= %s")
        params.append(week_start(week_to))
    if channel is not None:
        where.append("channel = %s")
        params.append(channel)
    if confidence_bucket is not None:
        where.append("confidence_bucket = %s")
        params.append(confidence_bucket)
    sql = (f"SELECT {', '.join(_COLUMNS)} FROM model_quality"  # noqa: S608 (only fixed column names are interpolated)
           + (f" WHERE {' AND '.join(where)}" if where else "")
           + " ORDER BY week DESC, channel, CASE confidence_bucket WHEN 'low' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [_from_row(row) for row in cursor.fetchall()]
