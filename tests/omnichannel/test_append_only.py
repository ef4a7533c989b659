"""Approvals and audit rows are history: the code's own API refuses to change them,
and on Postgres so does the database."""

import pytest
from django.db import DatabaseError, connection, transaction

from conversations.services.approvals import draft_approve
from omnichannel.audit import audit_log_write
from omnichannel.errors import AppendOnlyError
from omnichannel.models import AuditLog
from tests.builders import make_draft

pytestmark = pytest.mark.django_db


def test_an_audit_row_cannot_be_saved_again_or_deleted():
    row = audit_log_write(event_type="test.event", payload={"a": 1})
    row.payload = {"a": 2}
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        AuditLog.objects.filter(pk=row.pk).update(payload={})
    with pytest.raises(AppendOnlyError):
        AuditLog.objects.all().delete()
    row.refresh_from_db()
    assert row.payload == {"a": 1}


def test_an_approval_cannot_be_changed_through_the_code(agent_user):
    approval = draft_approve(draft_id=make_draft().pk, acting_user=agent_user)
    approval.final_text = "rewritten history"
    with pytest.raises(AppendOnlyError):
        approval.save()
    with pytest.raises(AppendOnlyError):
        type(approval).objects.filter(pk=approval.pk).update(final_text="x")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on Postgres only")
def test_postgres_refuses_raw_sql_updates_of_history(agent_user):
    draft_approve(draft_id=make_draft().pk, acting_user=agent_user)
    for table in ("audit_log", "approvals"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET id = id")  # noqa: S608 - table names are literals above
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
