"""A second Postgres database for a restore drill, named after the test database (two suites on one
server never share one), and a backup restored into it by hand, as Ops would (pg_restore, then
manage.py commands run against it)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from django.db import connection


def server_url() -> str:
    db = connection.settings_dict
    return f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"


@contextmanager
def scratch_database(suffix: str) -> Iterator[str]:
    """An empty database `<test database>_<suffix>` for the block (its URL), dropped afterwards."""
    server, name = server_url(), f"{connection.settings_dict['NAME']}_{suffix}"  # read once: a restore switches
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_restore_by_hand(dump: Path, url: str) -> None:
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={url}", str(dump)],
                   check=True, capture_output=True)


def manage_against(url: str, *args: str, settings, tmp_path: Path) -> subprocess.CompletedProcess:
    """`manage.py <args>` in a process of its own whose database is `url` (the blob store is the test's)."""
    env = {**os.environ, "DATABASE_URL": url, "SYNC_USE_CELERY": "0", "BLOB_ROOT": str(settings.BLOB_ROOT),
           "CHROMA_PATH": str(tmp_path / "chroma-restored")}
    return subprocess.run([sys.executable, "manage.py", *args], env=env, cwd=settings.BASE_DIR,
                          capture_output=True, text=True, timeout=300)
