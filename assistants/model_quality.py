"""The model_quality read model (assistants/migrations/0003): how good and how costly the drafts are.

Per ISO week, channel and confidence bucket. The view keeps counts and sums; the rates and means
here are shares of what they describe: approve/edit/reject rates of the drafts agents decided (a
pending or superseded draft is not decided), mean latency of the drafts that have a model run,
mean edit size (changed lines) of the edits whose diff is still there.

Beside it, model_quality_triage (0004): inbound emails per ISO week, channel and triage label, so
the auto-replies, bounces, spam and privacy requests that got no draft are counted too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection

from conversations.models import Message

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


def _week(value) -> tuple[date, str]:
    """The view's week (a date, or ISO text on SQLite) and its ISO name, "2026-W45"."""
    week = value if isinstance(value, date) else date.fromisoformat(value)
    year, number, _ = week.isocalendar()
    return week, f"{year}-W{number:02d}"


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _from_row(row) -> ModelQuality:
    data = dict(zip(_COLUMNS, row, strict=True))
    week, iso_week = _week(data["week"])
    decided = int(data["decided"])
    return ModelQuality(
        week=week, iso_week=iso_week, channel=data["channel"],
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


def _where(*, week_from: date | None, week_to: date | None, **equal: str | None) -> tuple[str, list]:
    """A WHERE clause on the week range (any day stands for its ISO week) and on columns by value."""
    where, params = [], []
    if week_from is not None:
        where.append("week >= %s")
        params.append(week_start(week_from))
    if week_to is not None:
        where.append("week <= %s")
        params.append(week_start(week_to))
    for column, value in equal.items():
        if value is not None:
            where.append(f"{column} = %s")
            params.append(value)
    return (f" WHERE {' AND '.join(where)}" if where else ""), params


def model_quality_list(*, week_from: date | None = None, week_to: date | None = None, channel: str | None = None,
                       confidence_bucket: str | None = None) -> list[ModelQuality]:
    """Rows of the read model, newest week first, then channel, then low/medium/high. `week_from`
    and `week_to` may be any day: each stands for its ISO week, and both weeks are included."""
    if confidence_bucket is not None and confidence_bucket not in BUCKETS:
        raise ValueError(f"confidence_bucket must be one of {', '.join(BUCKETS)}, got {confidence_bucket!r}")
    where, params = _where(week_from=week_from, week_to=week_to, channel=channel, confidence_bucket=confidence_bucket)
    sql = (f"SELECT {', '.join(_COLUMNS)} FROM model_quality{where}"  # noqa: S608 (only fixed names are interpolated)
           " ORDER BY week DESC, channel, CASE confidence_bucket WHEN 'low' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [_from_row(row) for row in cursor.fetchall()]


@dataclass(frozen=True)
class Calibration:
    """Does the confidence mean something: per bucket, how many drafts agents decided, and the share
    they had to edit or reject (low for high confidence, high for low, if the number is any good)."""

    confidence_bucket: str
    drafts: int
    decided: int
    approved: int
    edited: int
    rejected: int
    edited_or_rejected_rate: float | None


def model_quality_calibration(*, week_from: date | None = None, week_to: date | None = None,
                              channel: str | None = None) -> list[Calibration]:
    """The model_quality rows of the weeks (and channel) added up per confidence bucket, low to high;
    every bucket is listed, an empty one with zeros."""
    sums = {name: [0, 0, 0, 0, 0] for name in BUCKETS}
    for row in model_quality_list(week_from=week_from, week_to=week_to, channel=channel):
        total = sums[row.confidence_bucket]
        for i, value in enumerate((row.drafts, row.decided, row.approved, row.edited, row.rejected)):
            total[i] += value
    return [Calibration(name, drafts, decided, approved, edited, rejected, _share(edited + rejected, decided))
            for name, (drafts, decided, approved, edited, rejected) in sums.items()]


TRIAGE_LABELS = tuple(Message.Triage.values)  # customer first, then what got no draft


@dataclass(frozen=True)
class TriageCount:
    week: date  # the Monday of the ISO week of the emails' arrival
    iso_week: str
    channel: str
    label: str
    emails: int


def model_quality_triage_list(*, week_from: date | None = None, week_to: date | None = None,
                              channel: str | None = None, label: str | None = None) -> list[TriageCount]:
    """Inbound emails per ISO week, channel and triage label, newest week first, then channel, then the
    labels in TRIAGE_LABELS order. The weeks as in `model_quality_list`."""
    if label is not None and label not in TRIAGE_LABELS:
        raise ValueError(f"label must be one of {', '.join(TRIAGE_LABELS)}, got {label!r}")
    where, params = _where(week_from=week_from, week_to=week_to, channel=channel, label=label)
    order = " ".join(f"WHEN '{name}' THEN {n}" for n, name in enumerate(TRIAGE_LABELS))
    sql = (f"SELECT week, channel, label, emails FROM model_quality_triage{where}"  # noqa: S608 (fixed names only)
           f" ORDER BY week DESC, channel, CASE label {order} ELSE {len(TRIAGE_LABELS)} END")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [TriageCount(*_week(week), channel=row_channel, label=row_label, emails=int(emails))
            for week, row_channel, row_label, emails in rows]


@dataclass(frozen=True)
class QualityBar:
    """One week and confidence bucket, all channels: what agents did with the drafts they decided."""

    iso_week: str
    bucket: str
    drafts: int
    decided: int
    approve_rate: float
    edit_rate: float
    reject_rate: float


def model_quality_weekly_bars(*, weeks: int = 8, today: date | None = None) -> list[QualityBar]:
    """The report page's bars: the last `weeks` ISO weeks, newest first, low/medium/high in each."""
    today = today or date.today()
    rows = model_quality_list(week_from=week_start(today) - timedelta(weeks=weeks - 1), week_to=today)
    merged: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        total = merged.setdefault((row.iso_week, row.confidence_bucket), [0, 0, 0, 0, 0])
        for i, value in enumerate((row.drafts, row.decided, row.approved, row.edited, row.rejected)):
            total[i] += value
    bars = []
    for (iso_week, bucket), (drafts, decided, approved, edited, rejected) in merged.items():
        bars.append(QualityBar(iso_week, bucket, drafts, decided, _share(approved, decided) or 0.0,
                               _share(edited, decided) or 0.0, _share(rejected, decided) or 0.0))
    return sorted(bars, key=lambda b: (b.iso_week, -BUCKETS.index(b.bucket)), reverse=True)
