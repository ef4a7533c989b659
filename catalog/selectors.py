"""Reads of demand: the weekly trend of the most requested things, for the admin chart."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Sum
from django.db.models.functions import TruncWeek

from catalog.models import ProductRequest
from omnichannel.blobstore import blob_list


@dataclass(frozen=True)
class DemandSeries:
    normalized: str
    counts: list[int]  # one per week of `DemandTrend.weeks`, oldest first
    total: int
    previous_mean: float  # mean of the four weeks before the last one
    trend_score: float  # (last week - previous mean) / (previous mean + 1), as in the weekly report


@dataclass(frozen=True)
class DemandTrend:
    weeks: list[str]  # ISO weeks, oldest first, e.g. "2026-W47"; the last one is the current week
    week_starts: list[datetime]
    series: list[DemandSeries]  # the top requests over the window, most requested first

    @property
    def max_count(self) -> int:
        return max((c for s in self.series for c in s.counts), default=0)


def _monday(moment: datetime) -> datetime:
    day = moment.astimezone(UTC).date()
    monday = day - timedelta(days=day.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=UTC)


def demand_weekly_trend(*, weeks: int = 8, top: int = 8, now: datetime | None = None) -> DemandTrend:
    """Per ISO week (Monday to Monday, UTC, ending with the current week), the summed request count of
    the `top` requests over the whole window. One grouped query, whatever the number of rows."""
    current = _monday(now or datetime.now(UTC))
    starts = [current - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    rows = (ProductRequest.objects.filter(requested_at__gte=starts[0], requested_at__lt=current + timedelta(weeks=1))
            .annotate(week=TruncWeek("requested_at", tzinfo=UTC)).values("normalized", "week")
            .annotate(total=Sum("count")))
    index = {start: i for i, start in enumerate(starts)}
    per_request: dict[str, list[int]] = {}
    for row in rows:
        counts = per_request.setdefault(row["normalized"], [0] * weeks)
        counts[index[row["week"].astimezone(UTC)]] += row["total"]
    ranked = sorted(per_request.items(), key=lambda item: (-sum(item[1]), -item[1][-1], item[0]))[:top]
    series = []
    for normalized, counts in ranked:
        previous = counts[-5:-1]
        mean = sum(previous) / 4
        series.append(DemandSeries(normalized=normalized, counts=counts, total=sum(counts),
                                   previous_mean=round(mean, 2), trend_score=round((counts[-1] - mean) / (mean + 1), 3)))
    labels = [f"{s.isocalendar()[0]}-W{s.isocalendar()[1]:02d}" for s in starts]
    return DemandTrend(weeks=labels, week_starts=starts, series=series)



REPORTS_PREFIX = "reports"  # demand_mine writes each week's CSV as reports/demand-<ISO week>.csv
_REPORT_NAME = re.compile(r"demand-(\d{4}-W\d{2})\.csv")


def demand_report_key(week: str) -> str:
    return f"{REPORTS_PREFIX}/demand-{week}.csv"


def demand_report_weeks(*, limit: int = 12) -> list[str]:
    """The ISO weeks whose report `mine_demand` wrote (its CSV in the blob store), newest first."""
    weeks = [m.group(1) for key in blob_list(REPORTS_PREFIX) if (m := _REPORT_NAME.fullmatch(key.rsplit("/", 1)[-1]))]
    return sorted(weeks, reverse=True)[:limit]
