"""Replaying the erasure ledger twice into a restored database: the second replay changes nothing.

Ada asks to be erased after last night's backup; Ops restore that backup by hand and run
`replay_erasures --yes`, then run it again (a retried runbook step). The ledger in the blob store
must still hold one row per erased identifier (the replay's own erasures do not pile up copies of
her tombstones), and the restored database must be exactly as the first replay left it.
"""

from __future__ import annotations

import io
import json
from collections import Counter

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from customers.erasure_ledger import LEDGER_PREFIX
from integrations.demo import seed_demo
from omnichannel.blobstore import blob_get, blob_get_to_file, blob_list
from omnichannel.pii import pii_key
from tests.scratch_db import manage_against, pg_restore_by_hand, scratch_database

pytestmark = pytest.mark.django_db(transaction=True)

ADA_EMAIL = "ada.lovelace@example.com"
ADA_SHOPIFY_ID = "7001"


def _ledger_rows() -> Counter:
    """How many times each tombstone key appears over every ledger object."""
    return Counter(row["key"] for key in blob_list(LEDGER_PREFIX) for row in json.loads(blob_get(key))["tombstones"])


def _database_state(conn) -> dict[str, list[str]]:
    """Every public table's rows as JSON, except the audit log (each replay records that it ran)."""
    tables = [r[0] for r in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'audit_log' ORDER BY 1").fetchall()]
    return {table: sorted(r[0] for r in conn.execute(f'SELECT row_to_json(t)::text FROM "{table}" t').fetchall())  # noqa: S608
            for table in tables}


def test_replaying_the_ledger_twice_keeps_one_row_per_erased_identifier_and_the_same_database(settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("backups are pg_dump")
    seed_demo()
    call_command("backup_db")
    [backup] = blob_list("backups")
    call_command("erase_customer", ADA_EMAIL, "--yes", stdout=io.StringIO())
    erased_keys = {pii_key("email", ADA_EMAIL), pii_key("shopify_customer", ADA_SHOPIFY_ID)}
    before = _ledger_rows()
    assert erased_keys <= set(before)

    blob_get_to_file(backup, tmp_path / "db.dump")
    with scratch_database("replay_twice") as restored_url:
        pg_restore_by_hand(tmp_path / "db.dump", restored_url)
        first = manage_against(restored_url, "replay_erasures", "--yes", settings=settings, tmp_path=tmp_path)
        assert first.returncode == 0, first.stderr
        assert "1 customers and 0 orders erased again" in first.stdout, first.stdout
        after_first = _ledger_rows()
        with psycopg.connect(restored_url) as restored:
            state_after_first = _database_state(restored)
            assert restored.execute("SELECT is_erased FROM customers WHERE shopify_id = %s",
                                    [ADA_SHOPIFY_ID]).fetchone() == (True,)

        second = manage_against(restored_url, "replay_erasures", "--yes", settings=settings, tmp_path=tmp_path)
        assert second.returncode == 0, second.stderr
        assert "0 tombstones restored, 0 customers and 0 orders erased again" in second.stdout, second.stdout
        with psycopg.connect(restored_url) as restored:
            assert _database_state(restored) == state_after_first

    # One row per erased identifier, the same identifiers as the erasure wrote, after either replay.
    for rows in (after_first, _ledger_rows()):
        assert set(rows) == set(before)
        assert set(rows.values()) == {1}, rows
