"""Database backups into the blob store (pg_dump custom format) and restores from them.

`backup_db` writes `backups/db-<UTC timestamp>.dump` and keeps the newest BACKUP_KEEP; restoring
goes into a database named explicitly (never silently over the live one). After pg_restore,
`database_restored` is sent with the restored database as this process's default connection, so the
apps can bring it up to date with what lives outside it: the customers app replays the erasures made
since the backup (customers/services_erasure_replay.py) before the restore returns. With BLOB_BUCKET set the
dumps go to the bucket (the seed's "nightly pg_dump to S3"): the dump is written to the system's
temporary directory, checked, then streamed up, so a failed pg_dump never replaces a good backup.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import environ
from django.conf import settings
from django.db import connection, connections
from django.dispatch import Signal
from django.utils import timezone

from omnichannel.audit import audit_log_write
from omnichannel.blobstore import blob_delete, blob_get_to_file, blob_list, blob_put_file
from omnichannel.errors import ApplicationError
from omnichannel.task_names import TaskName

PREFIX = "backups"

# Sent by `backup_restore` after pg_restore, with the restored database as the default connection;
# a receiver returns a line for the command's output. A receiver's exception fails the restore.
database_restored = Signal()


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        raise ApplicationError("backups need Postgres (the embedded SQLite file can simply be copied)")
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgresql://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def backup_create(*, keep: int | None = None) -> str:
    keep = keep or settings.BACKUP_KEEP
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "db.dump"
        result = subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={path}", _database_url()],
                                capture_output=True, text=True, timeout=3600)
        if result.returncode != 0:
            raise ApplicationError(f"pg_dump failed: {result.stderr.strip()[:500]}")
        key = blob_put_file(f"{PREFIX}/db-{timezone.now():%Y%m%dT%H%M%S%fZ}.dump", path)
    # The timestamped names sort in time order: everything but the newest `keep` goes.
    pruned = sorted(blob_list(PREFIX))[:-keep]
    for old in pruned:
        blob_delete(old)
    audit_log_write(event_type="backup.created", integration=TaskName.BACKUP_DB, payload={"key": key, "pruned": len(pruned)})
    return key


def backup_restore(*, key: str, into_url: str) -> list[str]:
    """Restore into the empty database at `into_url`; the receivers' lines (what they re-applied)."""
    if not into_url.startswith(("postgres://", "postgresql://")):
        raise ApplicationError(f"--into must be a postgres:// URL, not {into_url!r}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "db.dump"
        try:
            blob_get_to_file(key, path)
        except FileNotFoundError:
            raise ApplicationError(f"no backup {key!r} in the blob store") from None
        url = into_url.replace("postgres://", "postgresql://", 1)
        result = subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={url}", str(path)],
                                capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise ApplicationError(f"pg_restore failed: {result.stderr.strip()[:500]}")
    with _default_database(url):
        return [str(line) for _receiver, line in database_restored.send(sender=None, database_url=into_url) if line]


@contextmanager
def _default_database(url: str) -> Iterator[None]:
    """This thread's default connection goes to `url` for the block, then back: the receivers run the
    apps' own services (the erasure, with its locks, audit rows and on-commit work) in the restored
    database, as they would in the live one."""
    default = connections["default"]
    if default.in_atomic_block:
        raise ApplicationError("a restore cannot re-apply anything inside a transaction")
    target = environ.Env.db_url_config(url)
    saved = default.settings_dict
    default.close()
    default.settings_dict = {**saved, **{name: target[name] for name in ("NAME", "USER", "PASSWORD", "HOST", "PORT")}}
    try:
        yield
    finally:
        default.close()
        default.settings_dict = saved
