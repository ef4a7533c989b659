"""Two Ops people add the same FAQ question at the same moment (two tabs, the admin and the API): both
requests pass the service's duplicate check, because neither sees the other's uncommitted entry. The
database refuses the second one (a unique index on the normalised question, archived entries aside),
and that person gets the same clear error the check gives, naming the entry that won."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.db import connection, transaction  # noqa: F401 - the skipif condition reads `connection`

from faq.models import FaqEntry
from faq.services import faq_entry_create, faq_entry_unpublish
from omnichannel.errors import ApplicationError
from tests.builders import in_thread, make_staff, other_connection

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif("connection.vendor != 'postgresql'", reason="two real connections racing")]


def inserts_waiting(watcher: psycopg.Connection) -> int:
    return watcher.execute("SELECT count(*) FROM pg_locks WHERE relation = 'faq_entries'::regclass AND NOT granted"
                           ).fetchone()[0]


def test_two_requests_adding_the_same_question_at_once_make_one_entry_and_the_other_is_told_which():
    with other_connection() as gate, other_connection() as watcher:
        # The gate lets both requests read (their duplicate checks find nothing) but holds their INSERTs,
        # so both have passed the check before either writes: the race, every time.
        gate.execute("LOCK TABLE faq_entries IN SHARE MODE")
        first, first_outcome = in_thread(lambda: faq_entry_create(
            question="Do you ship to Norway?", answer="Yes, within 5 working days."))
        second, second_outcome = in_thread(lambda: faq_entry_create(
            question="do you ship to  NORWAY", answer="Yes, in about a week."))
        deadline = time.monotonic() + 20
        while inserts_waiting(watcher) < 2:
            assert first.is_alive() and second.is_alive(), "a request finished before the race"
            assert time.monotonic() < deadline, "the two requests never both reached their INSERT"
            time.sleep(0.02)
        gate.commit()
        first.join(20)
        second.join(20)

    outcomes = [first_outcome, second_outcome]
    created = [o["result"] for o in outcomes if "result" in o]
    refused = [o["error"] for o in outcomes if "error" in o]
    assert len(created) == 1 and len(refused) == 1, outcomes
    assert isinstance(refused[0], ApplicationError), repr(refused[0])
    winner = created[0]
    assert refused[0].message.startswith(f"FAQ entry {winner.pk} already asks this question: “{winner.question}”")
    assert refused[0].extra["duplicate_of"] == {"id": winner.pk, "question": winner.question}
    assert list(FaqEntry.objects.values_list("question", flat=True)) == [winner.question]


def test_an_archived_entry_brought_back_as_a_draft_is_refused_while_another_entry_asks_its_question():
    retired = faq_entry_create(question="Do you ship to Sweden?", answer="Not any more.")
    faq_entry_unpublish(entry_id=retired.pk, status=FaqEntry.Status.ARCHIVED)
    current = faq_entry_create(question="Do you ship to Sweden ?", answer="Yes, since March.")
    with pytest.raises(ApplicationError, match=f"FAQ entry {current.pk} already asks this question"):
        faq_entry_unpublish(entry_id=retired.pk, status=FaqEntry.Status.DRAFT)
    assert FaqEntry.objects.get(pk=retired.pk).status == FaqEntry.Status.ARCHIVED


def test_the_admin_form_that_loses_the_race_says_which_entry_asks_it_and_adds_nothing(client):
    ops = make_staff("Ops", "olivia")
    client.force_login(ops)
    committed = threading.Event()
    with other_connection() as watcher:
        def create_and_hold():  # the other request: inserted, not yet committed
            with transaction.atomic():
                entry = faq_entry_create(question="Do you ship to Norway?", answer="Yes, within 5 working days.")
                committed.wait(20)
            return entry
        holder, held = in_thread(create_and_hold)
        form, posted = in_thread(lambda: client.post("/admin/faq/faqentry/add/", {
            "question": "do you ship to norway", "answer": "Yes.", "status": "draft", "source_intent": "",
            "position": 0}))
        deadline = time.monotonic() + 20
        while watcher.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted"
                              ).fetchone()[0] == 0:  # the form's INSERT waits on the held entry's transaction
            assert form.is_alive(), posted
            assert time.monotonic() < deadline, "the form's INSERT never waited for the other entry"
            time.sleep(0.02)
        committed.set()
        holder.join(20)
        form.join(20)

    winner = held["result"]
    response = posted["result"]
    assert response.status_code in (200, 302), response.status_code
    page = client.get(response["Location"]).content.decode() if response.status_code == 302 else response.content.decode()
    assert f"FAQ entry {winner.pk} already asks this question" in page
    assert "was added successfully" not in page
    assert list(FaqEntry.objects.values_list("pk", flat=True)) == [winner.pk]
