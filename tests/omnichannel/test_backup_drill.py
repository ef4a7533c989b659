"""The backup drill on Postgres: seed, back up, restore into a fresh database, compare every table; on the
filesystem store and on S3 (a real moto server process, tests/s3_server.py), as with BLOB_BUCKET set."""

from __future__ import annotations

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from integrations.demo import seed_demo
from omnichannel.blobstore import blob_list

pytestmark = pytest.mark.django_db(transaction=True)


def _counts(conn) -> dict[str, int]:
    tables = [r[0] for r in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename").fetchall()]
    return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608


@pytest.mark.parametrize("store", ["filesystem", "s3"])
def test_backup_then_restore_into_a_fresh_database_gives_the_same_rows(request, store):
    if connection.vendor != "postgresql":
        pytest.skip("backups are pg_dump")
    if store == "s3":
        bucket = request.getfixturevalue("s3_blob_store")
        s3_server = request.getfixturevalue("s3_server")
    seed_demo()
    call_command("backup_db", "--keep", "2")
    call_command("backup_db", "--keep", "2")
    call_command("backup_db", "--keep", "2")
    keys = blob_list("backups")
    assert len(keys) == 2  # pruned to the newest two
    if store == "s3":
        assert [k for k in s3_server.keys(bucket) if k.startswith("backups/")] == keys
    db = connection.settings_dict
    base = f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    drill = f"{db['NAME']}_restore_drill"  # named after the test database: two suites on one server never collide
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {drill}")
        admin.execute(f"CREATE DATABASE {drill}")
    try:
        call_command("restore_db", keys[-1], "--into", f"{base}/{drill}")
        with psycopg.connect(f"{base}/{db['NAME']}") as live, psycopg.connect(f"{base}/{drill}") as copy:
            live_counts, restored = _counts(live), _counts(copy)
        # The backup's own audit row is written after the dump: the only difference allowed.
        assert restored.pop("audit_log") == live_counts.pop("audit_log") - 1
        # Six shop customers plus the lead created for the demo inbox's one unknown sender.
        assert restored == live_counts and restored["customers"] == 7 and restored["orders"] == 10
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {drill} WITH (FORCE)")
