"""Cache and rate-limit helpers on Django's cache (Redis in production, local memory embedded).

Redis holds nothing that cannot be lost: every value here can be recomputed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    count: int
    limit: int
    retry_after: int


def rate_limit_hit(key: str, *, limit: int, window_seconds: int) -> RateLimitResult:
    """Fixed-window counter: the `limit`-th call in a window is the last one allowed."""
    window = int(time.time() // window_seconds)
    cache_key = f"ratelimit:{key}:{window}"
    # add() is atomic on Redis and local memory: only the first caller of a window creates it.
    cache.add(cache_key, 0, timeout=window_seconds + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window_seconds + 1)
        count = 1
    retry_after = window_seconds - int(time.time() % window_seconds)
    return RateLimitResult(allowed=count <= limit, count=count, limit=limit, retry_after=retry_after)


def debounce(key: str, seconds: int) -> bool:
    """True for the first caller in `seconds`; later callers in the window get False."""
    return cache.add(f"debounce:{key}", 1, timeout=seconds)
