"""Cache helpers on Django's cache (Redis in production, local memory embedded).

Redis holds nothing that cannot be lost: every value here can be recomputed.
"""

from __future__ import annotations

from django.core.cache import cache


def debounce(key: str, seconds: int) -> bool:
    """True for the first caller in `seconds`; later callers in the window get False."""
    return cache.add(f"debounce:{key}", 1, timeout=seconds)
