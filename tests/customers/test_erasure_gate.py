"""A backfill page and an erasure of the same person, on two connections, in both orders.

A backfill page checks its whole page's tombstones under one shared advisory lock (the erasure gate,
customers/selectors.py erasure_gate_share) instead of a lock per identifier; an erasure holds the gate
exclusively. These tests hold one side's transaction open on its own connection and show the other
waits for it, then does the right thing: an erasure that commits while a page waits is not undone by
the page, and a page that committed first is erased by the erasure that waited for it.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import psycopg
import pytest
from django.db import connection, transaction  # noqa: F401 - connection: read by the skipif condition

from customers.models import Order
from customers.selectors import ERASURE_GATE
from customers.services import OrderFacts, orders_bulk_upsert
from customers.services_erasure import customer_erase
from integrations.shopify import ingest
from omnichannel.pii import pii_key
from tests.builders import in_thread, other_connection
from tests.integrations.shopify.conftest import FIXTURES

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif("connection.vendor != 'postgresql'", reason="advisory locks are Postgres'")]

BOB_EMAIL = "bob.norman@mail.example.com"


def bobs_order() -> OrderFacts:
    """Shopify's own sample order #1001 (Bob Norman's, shipped to Chestnut Street)."""
    order = json.loads((FIXTURES / "shared" / "app-js__order__test_8__GET_orders_450789469__response.json")
                       .read_text())["order"]
    return ingest.order_facts(order)


def waiting_on_the_gate(watcher: psycopg.Connection) -> int:
    """How many sessions wait for the erasure gate right now (pg_locks, not granted)."""
    return watcher.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = %s AND objid = %s",
        [ERASURE_GATE[0], ERASURE_GATE[1]]).fetchone()[0]


def wait_until_waiting(watcher: psycopg.Connection, worker: threading.Thread, deadline_s: float = 20.0) -> None:
    deadline = time.monotonic() + deadline_s
    while waiting_on_the_gate(watcher) == 0:
        assert worker.is_alive(), "the other side finished without waiting for the gate"
        assert time.monotonic() < deadline, "nobody waited for the erasure gate"
        time.sleep(0.02)


def test_an_erasure_that_commits_while_a_page_waits_is_not_undone_by_the_page():
    with other_connection() as erasure, other_connection() as watcher:
        watcher.autocommit = True
        # The erasure, mid-transaction: the gate closed, his tombstone written, not yet committed.
        erasure.execute("SELECT pg_advisory_xact_lock(%s, %s)", list(ERASURE_GATE))
        erasure.execute("INSERT INTO erasure_tombstones (kind, key, erased_at) VALUES ('email', %s, %s)",
                        [pii_key("email", BOB_EMAIL), datetime.now(UTC)])
        page, outcome = in_thread(lambda: orders_bulk_upsert(facts_list=[bobs_order()]))
        wait_until_waiting(watcher, page)
        assert not Order.objects.filter(shopify_id="450789469").exists()
        erasure.commit()
        page.join(timeout=30)
    assert not page.is_alive() and "error" not in outcome, outcome
    stored = Order.objects.get(shopify_id="450789469")
    assert stored.is_erased and stored.shipping_address == {} and BOB_EMAIL not in stored.email
    assert stored.total_price_cents == 59894  # the order's own facts stay


def test_an_erasure_waits_for_a_page_under_way_and_then_erases_what_it_wrote():
    with other_connection() as watcher:
        watcher.autocommit = True
        with transaction.atomic():  # the page's transaction, held open
            orders_bulk_upsert(facts_list=[bobs_order()])
            # The gate is held (shared) until this page commits: an erasure cannot take it now.
            with other_connection() as probe:
                assert probe.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", list(ERASURE_GATE)).fetchone()[0] \
                    is False
                assert probe.execute("SELECT pg_try_advisory_xact_lock_shared(%s, %s)",
                                     list(ERASURE_GATE)).fetchone()[0] is True  # another page goes ahead
            erasure, outcome = in_thread(lambda: customer_erase(email=BOB_EMAIL))
            wait_until_waiting(watcher, erasure)
        erasure.join(timeout=60)
    assert not erasure.is_alive() and "error" not in outcome, outcome
    stored = Order.objects.get(shopify_id="450789469")
    assert stored.is_erased and stored.shipping_address == {} and BOB_EMAIL not in stored.email
    assert outcome["result"].counts["orders"] == 1
