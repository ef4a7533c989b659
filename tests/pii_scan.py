"""Where a person's data still is: every table and materialized view (a pg_dump-like read, each row
as JSON), the blob store's files and the Chroma directory's files. Case-insensitive.

For the whole-system check (tests/customers/test_erased_everywhere.py) also: the output of a real
`pg_dump` (what a backup would keep: committed rows only, so in a transactional test), the blob store's
encrypted files decrypted (archives, data-request exports), what the vector index answers when queried,
and the log records of the test run."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
from pathlib import Path

from django.conf import settings
from django.db import connection


def database_holding(*needles: str) -> list[str]:
    """`relation: needle` for each needle found in a row of a table or materialized view of public.
    Rows are read as row_to_json (every column as text); bytea columns also decoded (raw webhook bodies:
    row_to_json shows them as hex, where an address would not be seen)."""
    assert connection.vendor == "postgresql", "the scan reads Postgres' catalog"
    found = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                       "AND table_type = 'BASE TABLE' UNION SELECT matviewname FROM pg_matviews "
                       "WHERE schemaname = 'public' ORDER BY 1")
        relations = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT table_name, column_name FROM information_schema.columns "
                       "WHERE table_schema = 'public' AND data_type = 'bytea'")
        bytea: dict[str, list[str]] = {}
        for table, column in cursor.fetchall():
            bytea.setdefault(table, []).append(column)
        assert {"customers", "messages", "webhook_deliveries", "customer_summary", "faq_entries"} <= set(relations)
        for relation in relations:
            texts = ["lower(row_to_json(r)::text)"]
            texts += [f"lower(encode(r.\"{c}\", 'escape'))" for c in bytea.get(relation, [])]
            for needle in needles:
                matches = " OR ".join(f"position(%s in {text}) > 0" for text in texts)
                cursor.execute(f'SELECT 1 FROM "{relation}" r WHERE {matches} LIMIT 1',  # noqa: S608 - catalog names
                               [needle.lower()] * len(texts))
                if cursor.fetchone():
                    found.append(f"{relation}: {needle}")
    return found


def files_holding(root: Path | str, *needles: str) -> list[str]:
    """`path: needle` for each file under `root` holding a needle (like grep -ril)."""
    root = Path(root)
    if not root.exists():
        return []
    return [f"{path.relative_to(root)}: {needle}" for path in sorted(root.rglob("*")) if path.is_file()
            for needle in needles if needle.lower().encode() in path.read_bytes().lower()]


def anywhere_holding(*needles: str) -> list[str]:
    """The database, the blob store and the Chroma directory."""
    return (database_holding(*needles) + [f"blob {hit}" for hit in files_holding(settings.BLOB_ROOT, *needles)]
            + [f"chroma {hit}" for hit in files_holding(settings.CHROMA_PATH, *needles)])


_BYTEA_HEX = re.compile(r"\\\\x([0-9a-f]+)")  # pg_dump writes bytea as \\x<hex> in COPY data


def pg_dump_holding(*needles: str) -> list[str]:
    """`pg_dump: needle` for each needle in a real `pg_dump` of the database (committed rows), bytea
    columns decoded from their hex form."""
    db = connection.settings_dict
    env = {**os.environ, **({"PGPASSWORD": db["PASSWORD"]} if db.get("PASSWORD") else {})}
    command = ["pg_dump", "--no-owner", "--no-privileges", "-h", db.get("HOST") or "127.0.0.1",
               "-p", str(db.get("PORT") or 5432), "-U", db.get("USER") or "postgres", db["NAME"]]
    dump = subprocess.run(command, env=env, capture_output=True, check=True, timeout=300).stdout.decode()  # noqa: S603
    assert "COPY public.customers" in dump, "the dump must hold the tables it is read for"
    text = (dump + "\n" + "\n".join(bytes.fromhex(h[: len(h) // 2 * 2]).decode("utf-8", "replace")
                                   for h in _BYTEA_HEX.findall(dump))).lower()
    return [f"pg_dump: {needle}" for needle in needles if needle.lower() in text]


def decrypted_blobs_holding(*needles: str) -> list[str]:
    """`path: needle` for each encrypted blob (archives, exports: `.fernet`) whose plaintext holds a needle."""
    from omnichannel.encryption import archive_decrypt

    root = Path(settings.BLOB_ROOT)
    found = []
    for path in sorted(root.rglob("*.fernet")) if root.exists() else []:
        text = archive_decrypt(path.read_bytes()).decode("utf-8", "replace").lower()
        found += [f"{path.relative_to(root)} (decrypted): {needle}" for needle in needles if needle.lower() in text]
    return found


def index_holding(*needles: str) -> list[str]:
    """`collection id: needle` for each item of each vector index collection whose text or metadata
    holds a needle: every item, as the index answers a query for the needles."""
    from assistants import vectorstore

    found = []
    for collection in (vectorstore.REPLIES, vectorstore.FAQ, vectorstore.SITE):
        count = vectorstore.index_count(collection)
        if not count:
            continue
        for hit in vectorstore.index_query(collection, " ".join(needles), n=count):
            text = f"{hit.text} {json.dumps(hit.metadata, default=str)}".lower()
            found += [f"{collection} {hit.id}: {needle}" for needle in needles if needle.lower() in text]
    return found


def logs_holding(records: list[logging.LogRecord], *needles: str) -> list[str]:
    """`logger: needle` for each log record (message, arguments and traceback) holding a needle."""
    found = []
    for record in records:
        text = " ".join([record.getMessage(), str(record.args or ""), record.exc_text or "",
                         str(getattr(record, "stack_info", "") or "")]).lower()
        found += [f"log {record.name}: {needle}" for needle in needles if needle.lower() in text]
    return sorted(set(found))
