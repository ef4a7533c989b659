"""Two Ops requests make the same correction at once (a double-clicked "Accept" on a correction candidate,
or the admin and the API): the second used to fail with the key's unique violation (a server error), after
the first had saved it. Now it finds the row the first one made and changes it: one correction, no error."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction  # noqa: F401 - the skipif condition reads `connection`

from faq.models import Correction
from faq.services import correction_upsert
from omnichannel.models import AuditLog
from tests.builders import in_thread, other_connection

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif("connection.vendor != 'postgresql'", reason="two real connections racing")]

LOYALTY = "Every 100 points are worth 5.00 USD off your next order."


def test_the_same_correction_made_twice_at_once_is_one_correction_and_no_error():
    inserted, first_done = threading.Event(), threading.Event()
    with other_connection() as watcher:
        def first_request():  # saved, not yet committed, while the second request arrives
            with transaction.atomic():
                made = correction_upsert(key="loyalty-points", pattern="points", answer=LOYALTY)
                inserted.set()
                first_done.wait(20)
            return made
        first, first_outcome = in_thread(first_request)
        assert inserted.wait(20), first_outcome
        deadline = time.monotonic() + 20
        second, second_outcome = in_thread(lambda: correction_upsert(key="loyalty-points", pattern="points",
                                                                     answer=LOYALTY + " Points never expire."))
        while watcher.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted"
                              ).fetchone()[0] == 0:  # the second INSERT waits on the first one's key
            assert second.is_alive(), second_outcome
            assert time.monotonic() < deadline, "the second request never waited for the first"
            time.sleep(0.02)
        first_done.set()
        first.join(20)
        second.join(20)

    assert "error" not in first_outcome and "error" not in second_outcome, (first_outcome, second_outcome)
    assert second_outcome["result"][1] == "updated"
    correction = Correction.objects.get()
    assert correction.answer == LOYALTY + " Points never expire."
    assert sorted(AuditLog.objects.filter(event_type__startswith="correction.").values_list("event_type", flat=True)
                  ) == ["correction.created", "correction.updated"]
