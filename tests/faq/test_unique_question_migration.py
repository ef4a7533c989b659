"""The migration that makes the database refuse a second open entry per question settles the duplicates a
shop already has: the published one (else the oldest) stays, the others are archived with an audit row
naming the entry kept; nothing is deleted, and archived entries are left as they were."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("faq", "0003_faq_proposals")]
AFTER = [("faq", "0004_faq_question_unique_open")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_duplicates_are_archived_keeping_the_published_one_and_the_index_then_holds():
    old_apps = _migrate(BEFORE)
    try:
        Entry = old_apps.get_model("faq", "FaqEntry")
        rows = [("Do you ship to Norway?", "draft"), ("do you ship to norway", "published"),
                ("Do  you ship to Norway ?!", "draft"), ("Gift wrap?", "archived"), ("gift wrap", "draft"),
                ("Gift wrap!", "draft"), ("Can I pay by card?", "draft")]
        ids = [Entry.objects.create(question=q, answer="a", status=s,
                                    published_at="2026-11-01T00:00:00Z" if s == "published" else None).pk
               for q, s in rows]
    finally:
        new_apps = _migrate(AFTER)
    Entry = new_apps.get_model("faq", "FaqEntry")
    status = dict(Entry.objects.values_list("pk", "status"))
    assert [status[pk] for pk in ids] == ["archived", "published", "archived", "archived", "draft", "archived",
                                          "draft"]
    assert Entry.objects.get(pk=ids[0]).question_key == "do you ship to norway"
    AuditLog = new_apps.get_model("omnichannel", "AuditLog")
    archived = {int(row.object_id): row.payload["duplicate_of"]
                for row in AuditLog.objects.filter(event_type="faq.archived")}
    assert archived == {ids[0]: ids[1], ids[2]: ids[1], ids[5]: ids[4]}
