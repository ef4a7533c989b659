"""Which messages a product request has counted is the request's own state (`counted_message_ids`), not
something read back from the audit log: the log may be trimmed or archived by Ops, and demand must not
double when it is."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from catalog.demand import product_request_record
from catalog.models import ProductRequest
from tests.builders import make_inbound_message

pytestmark = pytest.mark.django_db

ASKED_AT = datetime(2026, 11, 30, 8, 15, tzinfo=UTC)


def _record(message) -> ProductRequest:
    return product_request_record(text="hi, do you guys sell inflatable kayaks?? need one for july",
                                  customer_id=message.conversation.customer_id,
                                  conversation_id=message.conversation_id, requested_at=ASKED_AT, message_id=message.pk)


def test_a_replayed_message_is_not_counted_again_after_the_audit_rows_are_gone():
    message = make_inbound_message(email="kayak.fan@example.org", subject="kayaks?",
                                   body="hi, do you guys sell inflatable kayaks?? need one for july")
    _record(message)
    with connection.cursor() as cursor:  # the audit log trimmed by Ops (append-only for the app: past its trigger)
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM audit_log WHERE event_type = 'demand.request_recorded'")
        assert cursor.rowcount == 1
        cursor.execute("SET LOCAL session_replication_role = origin")
    _record(message)  # the same email re-drafted (a correction applied, a replay)
    request = ProductRequest.objects.get()
    assert request.count == 1 and request.counted_message_ids == [message.pk]


def test_each_message_of_the_thread_counts_once_however_often_it_is_recorded():
    first = make_inbound_message(email="kayak.fan@example.org", subject="kayaks?", body="inflatable kayaks?")
    later = make_inbound_message(email="kayak.fan@example.org", subject="Re: kayaks?", body="still want kayaks",
                                 thread=first.conversation.external_thread_id)
    for message in (first, first, later, later, first):
        _record(message)
    request = ProductRequest.objects.get()
    assert request.count == 2 and sorted(request.counted_message_ids) == sorted([first.pk, later.pk])
