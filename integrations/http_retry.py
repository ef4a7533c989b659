"""Helpers the provider clients share for retrying HTTP calls.

`Retry-After` is either a number of seconds or an HTTP date (RFC 9110 section 10.2.3,
https://www.rfc-editor.org/rfc/rfc9110#field.retry-after); providers and proxies in front of
them send both, so a client must read either without crashing.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value; None when absent or unreadable (the caller's own
    backoff applies then). A date in the past, or a negative number, means "retry now": 0."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" dates parse naive; HTTP dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
