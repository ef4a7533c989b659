"""Jobs that must not overlap (a sync against a rate-limited API, a backfill cursor, the shop's FAQ
page, a backup): whoever holds the lock runs, a second start returns at once.

A Postgres session advisory lock: nothing to clean up after a crash (the lock dies with the
connection) and no lease to tune. Embedded mode (SQLite) is one process: a thread lock suffices.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

_local_locks: dict[str, threading.Lock] = {}
_local_guard = threading.Lock()


def _key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


@contextmanager
def single_flight(name: str, *, wait: bool = False) -> Iterator[bool]:
    """`with single_flight("zoho_sync") as mine:` — `mine` is False when another run holds it.
    With `wait`, queue behind the running one instead (it may have started before our change)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if wait:
                cursor.execute("SELECT pg_advisory_lock(%s), true", [_key(name)])
                mine = True
            else:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [_key(name)])
                mine = bool(cursor.fetchone()[0])
        try:
            yield mine
        finally:
            if mine:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [_key(name)])
        return
    with _local_guard:
        lock = _local_locks.setdefault(name, threading.Lock())
    mine = lock.acquire(blocking=wait)
    try:
        yield mine
    finally:
        if mine:
            lock.release()
