"""Where a person's data still is: every table and materialized view (a pg_dump-like read, each row
as JSON), the blob store's files and the Chroma directory's files. Case-insensitive."""

from __future__ import annotations

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
