"""Leases on claimed work: until when the worker that claimed a row is known to be alive.

A claim (a webhook delivery taken for processing, an approved reply taken for sending) sets an
expiry WORK_LEASE_SECONDS ahead; while the work runs, `lease_kept` moves it forward every third
of that from a heartbeat thread. A worker killed with SIGKILL stops renewing, so its lease runs
out within WORK_LEASE_SECONDS, and the every-minute sweeps act on expired leases only: the
delivery is handed to another worker, the interrupted send is flagged for an agent. A worker
that is merely slow (a provider taking minutes) keeps its lease, so nobody takes its work over.

Work that finishes in under a third of the lease (nearly all of it) never touches the database
from the heartbeat: the thread waits, is told to stop, and exits. A renewal needs the claim's
own fencing value (its attempt number), so a worker whose lease did expire cannot extend the
lease of the worker that took over.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

logger = logging.getLogger(__name__)


def lease_until(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(seconds=settings.WORK_LEASE_SECONDS)


@contextmanager
def lease_kept(renew: Callable[[], bool], *, name: str) -> Iterator[None]:
    """Run the block while a heartbeat calls `renew()` every third of the lease. `renew` returns
    False once the claim is no longer ours (finished, or taken over): the heartbeat then stops."""
    stop = threading.Event()
    every = settings.WORK_LEASE_SECONDS / 3

    def heartbeat() -> None:
        try:
            while not stop.wait(every):
                try:
                    if not renew():
                        return
                except DatabaseError as exc:
                    # The next beat tries again; if the database stays away the lease runs out, as it should.
                    logger.warning("could not renew the lease of %s: %s", name, exc)
        finally:
            connection.close()  # this thread's own connection, if a renewal opened one

    thread = threading.Thread(target=heartbeat, name=f"lease:{name}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)  # a renewal in flight finishes; renewals check the claim, so a late one is harmless
