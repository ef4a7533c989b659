"""Reading Retry-After: seconds or an HTTP date (RFC 9110 10.2.3), never a crash."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.http_retry import retry_after_seconds

NOW = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("value,seconds", [
    ("120", 120.0), ("1.5", 1.5), (" 7 ", 7.0),
    ("Wed, 25 Nov 2026 10:00:30 GMT", 30.0),   # an HTTP date 30 s ahead
    ("Wed, 25 Nov 2026 10:00:30 -0000", 30.0),  # parsed naive by the stdlib: read as GMT
    ("Wed, 25 Nov 2026 09:59:00 GMT", 0.0),     # already past: retry now
    ("-5", 0.0),
])
def test_seconds_and_http_dates_are_read(value, seconds):
    assert retry_after_seconds(value, now=NOW) == seconds


@pytest.mark.parametrize("value", [None, "", "soon", "nan", "inf", "Wed, 99 Foo 2026"])
def test_absent_or_unreadable_values_leave_the_backoff_to_the_caller(value):
    assert retry_after_seconds(value, now=NOW) is None
