"""Jobs that must not overlap run once when two start together."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from omnichannel.single_flight import single_flight
from tests.builders import task_run_eagerly

pytestmark = pytest.mark.django_db(transaction=True)


def _hold(name: str, holding: threading.Event, release: threading.Event, seen: list) -> None:
    try:
        with single_flight(name) as mine:
            seen.append(mine)
            holding.set()
            release.wait(10)
    finally:
        connections.close_all()


def test_a_second_start_while_the_first_runs_is_refused_and_runs_after_it_ends():
    holding, release, seen = threading.Event(), threading.Event(), []
    first = threading.Thread(target=_hold, args=("zoho_sync", holding, release, seen))
    first.start()
    assert holding.wait(10)
    with single_flight("zoho_sync") as mine:
        assert mine is False  # another connection (another worker) holds it
    with single_flight("backup_db") as other:
        assert other is True  # a different job is not blocked
    release.set()
    first.join(10)
    with single_flight("zoho_sync") as mine:
        assert mine is True
    assert seen == [True]


def test_zoho_sync_started_twice_at_once_calls_zoho_once(settings):
    from integrations.zoho.tasks import zoho_sync

    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are Postgres'")
    holding, release, seen = threading.Event(), threading.Event(), []
    first = threading.Thread(target=_hold, args=("zoho_sync", holding, release, seen))
    first.start()
    assert holding.wait(10)
    try:
        assert task_run_eagerly(zoho_sync) == {"skipped": "another zoho_sync is running"}
    finally:
        release.set()
        first.join(10)
