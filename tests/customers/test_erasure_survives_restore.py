"""An erasure survives a restore: a backup taken before it, restored later, comes back erased.

The drill of tests/omnichannel/test_backup_drill.py, with an erasure between the backup and the restore: Ada
asks to be erased after last night's backup, then the database is restored from that backup. The
backup holds her (checked in the dump itself); the restored database must not, before `restore_db`
returns, and her tombstones must be back in it. On the filesystem store and on S3 (a real moto server).
"""

from __future__ import annotations

import io
import json
import subprocess

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

ADA = {"email": "ada.lovelace@example.com", "name": "Lovelace", "phone": "+44 20 7946 0101",
       "address": "12 St James's Square"}


def _relations_holding(conn, needle: str) -> list[str]:
    """Every table and materialized view of the restored database with a row holding `needle` (as JSON)."""
    relations = [r[0] for r in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
        "UNION SELECT matviewname FROM pg_matviews WHERE schemaname = 'public' ORDER BY 1").fetchall()]
    return [relation for relation in relations if conn.execute(
        f'SELECT 1 FROM "{relation}" r WHERE strpos(lower(row_to_json(r)::text), lower(%s)) > 0 LIMIT 1',  # noqa: S608
        [needle]).fetchone()]


@pytest.mark.parametrize("store", ["filesystem", "s3"])
def test_a_customer_erased_after_the_backup_is_erased_again_when_it_is_restored(request, store, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("backups are pg_dump")
    if store == "s3":
        request.getfixturevalue("s3_blob_store")
    seed_demo()
    call_command("backup_db")
    [backup] = blob_list("backups")
    call_command("erase_customer", ADA["email"], "--yes", stdout=io.StringIO())
    test_database = connection.settings_dict["NAME"]

    # The backup predates the erasure: it holds her.
    blob_get_to_file(backup, tmp_path / "db.dump")
    dumped = subprocess.run(["pg_restore", "--data-only", "--file=-", str(tmp_path / "db.dump")],
                            capture_output=True, text=True, check=True).stdout
    assert all(value in dumped for value in ADA.values())
    # The ledger outside the database holds her tombstones' keyed hashes, never her address.
    entries = [json.loads(blob_get(key)) for key in blob_list(LEDGER_PREFIX)]
    ledger_keys = {row["key"] for entry in entries for row in entry["tombstones"]}
    assert {pii_key("email", ADA["email"]), pii_key("shopify_customer", "7001")} <= ledger_keys
    assert not any(value.lower() in json.dumps(entries).lower() for value in ADA.values())

    with scratch_database("erasure_restore") as restored_url:
        out = io.StringIO()
        call_command("restore_db", backup, "--into", restored_url, stdout=out)
        with psycopg.connect(restored_url) as restored:
            for value in ADA.values():
                assert _relations_holding(restored, value) == [], value
            name, phone, addresses, erased = restored.execute(
                "SELECT name, phone, shipping_addresses, is_erased FROM customers WHERE shopify_id = '7001'").fetchone()
            assert (name, phone, addresses, erased) == ("", "", [], True)
            tombstones = {row[0] for row in restored.execute("SELECT key FROM erasure_tombstones").fetchall()}
            assert ledger_keys <= tombstones
            # Only she was erased again: the other customers came back whole.
            assert restored.execute("SELECT name FROM customers WHERE shopify_id = '7002'").fetchone() == ("Grace Hopper",)
            assert _relations_holding(restored, "grace.hopper@example.com")
        assert "1 customers and 0 orders erased again" in out.getvalue(), out.getvalue()
        # The live database is the test's own again.
        assert connection.settings_dict["NAME"] == test_database


def test_replay_erasures_erases_again_in_a_database_restored_by_hand(settings, tmp_path):
    """A restore without `restore_db` (pg_restore by hand, a provider's snapshot): `replay_erasures --yes`,
    run by Ops against that database, does what `restore_db` would have; a second run finds nothing."""
    if connection.vendor != "postgresql":
        pytest.skip("backups are pg_dump")
    seed_demo()
    call_command("backup_db")
    [backup] = blob_list("backups")
    call_command("erase_customer", ADA["email"], "--yes", stdout=io.StringIO())
    blob_get_to_file(backup, tmp_path / "db.dump")
    with scratch_database("erasure_by_hand") as restored_url:
        pg_restore_by_hand(tmp_path / "db.dump", restored_url)
        first = manage_against(restored_url, "replay_erasures", "--yes", settings=settings, tmp_path=tmp_path)
        assert first.returncode == 0, first.stderr
        with psycopg.connect(restored_url) as restored:
            for value in ADA.values():
                assert _relations_holding(restored, value) == [], value
            assert restored.execute("SELECT name FROM customers WHERE shopify_id = '7002'").fetchone() == ("Grace Hopper",)
        assert "1 customers and 0 orders erased again" in first.stdout, first.stdout
        again = manage_against(restored_url, "replay_erasures", "--yes", settings=settings, tmp_path=tmp_path)
        assert "0 tombstones restored, 0 customers and 0 orders erased again" in again.stdout, again.stdout + again.stderr
