"""Bulk upserts where the database, not Python, decides which version is newer.

A read-then-write staleness check races: a webhook can commit a newer row between the check and
an unconditional `ON CONFLICT DO UPDATE`, and the older backfill row then overwrites it. Here the
comparison is part of the statement (`DO UPDATE ... WHERE excluded.stamp > table.stamp`), so
Postgres re-checks it against the latest committed row it had to wait for. SQLite (embedded mode,
3.35+) understands the same statement.
"""

from __future__ import annotations

import functools
import json
import weakref
import zlib

import psycopg
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import DateField, DateTimeField, Field, JSONField, Model, TimeField

_STAGED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # psycopg connection -> its staging tables
COPY_MIN_ROWS = 50  # from here on a Postgres upsert stages its rows with COPY (one webhook's row does not)


def _pg_value(field, value):
    """What psycopg needs for one value, without Django's per-value field preparation (a third of a
    backfill's time): JSON as text, cast to jsonb by the statement; everything else as it is."""
    if isinstance(field, JSONField):
        return None if value is None and field.null else json.dumps(value, cls=field.encoder or DjangoJSONEncoder)
    return value


# pre_save methods that only read the attribute unless auto_now/auto_now_add is set.
_PLAIN_PRE_SAVE = {Field.pre_save, DateField.pre_save, DateTimeField.pre_save, TimeField.pre_save}


def _column_value(field):
    """`_pg_value(field, field.pre_save(row, True))` as a function of the row, with the per-value work
    that does not depend on the row done once per column."""
    attname = field.attname
    plain = type(field).pre_save in _PLAIN_PRE_SAVE and not (
        getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))
    if not plain:  # a time filled at save, or a field of its own kind (a file...): as Django saves it
        return lambda row: _pg_value(field, field.pre_save(row, True))
    if isinstance(field, JSONField):
        encode = (field.encoder or DjangoJSONEncoder)().encode
        nullable = field.null

        def json_value(row):
            value = getattr(row, attname)
            return None if value is None and nullable else encode(value)
        return json_value
    return lambda row: getattr(row, attname)


def rows_upsert_newer(*, model: type[Model], rows: list[Model], unique_field: str, update_fields: list[str],
                      stamp_field: str = "source_updated_at", batch_size: int = 1000) -> list[str]:
    """Insert `rows` (model instances, or plain objects with an attribute per concrete field: `created_at`
    and other auto times are set on them), or update the conflicting row on `unique_field` only where the incoming
    `stamp_field` is newer (or the held one is empty). One statement per batch. Returns the keys
    of the rows actually written; an incoming row equal to or older than what we hold is not."""
    if not rows:
        return []
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    by_name = {f.name: f for f in fields}
    updates = [by_name[name] for name in update_fields]
    if "updated_at" in by_name and "updated_at" not in update_fields:
        updates.append(by_name["updated_at"])
    stamp, key = quote(by_name[stamp_field].column), quote(by_name[unique_field].column)
    set_clause = ", ".join(f"{quote(f.column)} = excluded.{quote(f.column)}" for f in updates)
    # Postgres plans one array per column (UNNEST, as Django's own bulk_create does) much faster
    # than thousands of placeholders; SQLite takes plain VALUES rows.
    unnest = connection.vendor == "postgresql"
    if unnest:
        arrays = ", ".join(f"(%b)::{f.db_type(connection).split('(')[0]}[]" for f in fields)
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    if unnest and len(rows) >= COPY_MIN_ROWS:
        return _copy_upsert(model=model, rows=rows, fields=fields, key=key, stamp=stamp, set_clause=set_clause)
    batch_size = max(1, min(batch_size, connection.ops.bulk_batch_size(fields, rows)))
    written: list[str] = []
    connection.ensure_connection()
    # On Postgres, a psycopg cursor with server-side binding on Django's own connection (same
    # transaction): Django's default client-side binding quotes every array element in Python,
    # which cost more than the statement itself.
    with (psycopg.Cursor(connection.connection) if unnest else connection.cursor()) as cursor:
        for start in range(0, len(rows), batch_size):
            batch = rows[start:start + batch_size]
            # pre_save fills auto_now(_add) times; get_db_prep_save adapts JSON and dates per vendor.
            if unnest:
                values = [[_pg_value(f, f.pre_save(row, True)) for f in fields] for row in batch]
            else:
                values = [[f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields] for row in batch]
            if unnest:
                source = f"SELECT * FROM UNNEST({arrays})"  # noqa: S608 - type names from the model
                params = [list(column) for column in zip(*values, strict=True)]
            else:
                source, params = f"VALUES {', '.join([row_sql] * len(batch))}", [v for row in values for v in row]
            # Only quoted names from the model's metadata are interpolated; every value is a parameter.
            # wrap_database_errors: psycopg's errors raised as Django's (IntegrityError, OperationalError),
            # like any other query's, so callers can tell a deadlock or a unique violation from a bug.
            with connection.wrap_database_errors:
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) {source} "  # noqa: S608
                    f"ON CONFLICT ({key}) DO UPDATE SET {set_clause} "
                    f"WHERE {table}.{stamp} IS NULL OR excluded.{stamp} > {table}.{stamp} "
                    f"RETURNING {table}.{key}", params, **({"binary": True} if unnest else {}))
                written.extend(str(r[0]) for r in cursor.fetchall())
    return written


def _copy_upsert(*, model: type[Model], rows: list[Model], fields: list, key: str, stamp: str,
                 set_clause: str) -> list[str]:
    """Postgres, a page or more of rows: COPY them into a temporary table of the same columns, then one
    `INSERT … SELECT … ON CONFLICT` with the same newer-only condition. COPY streams the rows without a
    parameter per value, and the statement is planned once whatever the page size (bench/ingest.py
    compares it with the floor's raw COPY + INSERT … SELECT).

    The staging table lives for the connection (created once, `ON COMMIT DELETE ROWS`); the INSERT takes
    its rows with a `DELETE … RETURNING`, so it is empty again after each upsert and two upserts of one
    model in a transaction do not see each other's rows (a failed one rolls its COPY back with it). Its
    name carries a checksum of the columns, so a migrated table gets a fresh one. Once its creation has
    committed, the connection is known to hold it (`_STAGED`): a page pays no round trip to create it."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    column_names = [f.column for f in fields]
    columns = ", ".join(quote(c) for c in column_names)
    stage = quote(f"_stage_{model._meta.db_table}_{zlib.crc32(columns.encode()):08x}")
    connection.ensure_connection()
    # savepoint=False: inside the caller's transaction (a backfill page's) no savepoint is paid; in
    # autocommit this makes one, without which the staged rows would be deleted at the COPY's own commit.
    with transaction.atomic(savepoint=False), connection.wrap_database_errors, \
            psycopg.Cursor(connection.connection) as cursor:
        raw = connection.connection
        if stage not in _STAGED.get(raw, ()):
            cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "  # noqa: S608
                           f"SELECT {columns} FROM {table} WITH NO DATA")
            transaction.on_commit(functools.partial(_staged, raw, stage))
        # Each row's values read straight off the instance: pre_save only where it fills a time (auto_now),
        # one JSON encoder per column rather than one per value (json.dumps(cls=...) builds one each call).
        getters = [_column_value(f) for f in fields]
        with cursor.copy(f"COPY {stage} ({columns}) FROM STDIN") as copy:  # noqa: S608
            for row in rows:
                copy.write_row([get(row) for get in getters])
        cursor.execute(f"WITH staged AS (DELETE FROM {stage} RETURNING {columns}) "  # noqa: S608
                       f"INSERT INTO {table} ({columns}) SELECT {columns} FROM staged "
                       f"ON CONFLICT ({key}) DO UPDATE SET {set_clause} "
                       f"WHERE {table}.{stamp} IS NULL OR excluded.{stamp} > {table}.{stamp} "
                       f"RETURNING {table}.{key}")
        return [str(r[0]) for r in cursor.fetchall()]


def _staged(raw, stage: str) -> None:
    """After the creation's commit: a rolled-back creation leaves no table. Not inside an atomic block
    still open (a test running its on-commit callbacks inside the transaction it will roll back)."""
    if not connection.in_atomic_block and connection.connection is raw:
        _STAGED.setdefault(raw, set()).add(stage)


def unique_violation(exc: BaseException) -> bool:
    """The database refused a row because another holds the same unique value (Postgres SQLSTATE
    23505, SQLite's SQLITE_CONSTRAINT_UNIQUE), not because a value is wrong."""
    cause = exc.__cause__
    return isinstance(exc, IntegrityError) and (getattr(cause, "sqlstate", None) == "23505" or getattr(
        cause, "sqlite_errorname", None) == "SQLITE_CONSTRAINT_UNIQUE")


def row_upsert_newer(*, model: type[Model], row: Model, unique_field: str, update_fields: list[str],
                     stamp_field: str = "source_updated_at") -> tuple[Model, str]:
    """One row through `rows_upsert_newer`: what a webhook writes. With no row held yet there is
    nothing to lock, and a read-then-save lets two deliveries both insert (one fails) or the older
    one save last; in one statement, the second insert becomes the conditional update instead.

    Returns the row as stored and 'created', 'updated' or 'stale' (not written: the held version is
    as new or newer). The model's `created_at` (auto_now_add) tells an insert from an update: the
    insert stores the time this call put on `row`, an update keeps the held one."""
    upsert = functools.partial(rows_upsert_newer, model=model, rows=[row], unique_field=unique_field,
                               update_fields=update_fields, stamp_field=stamp_field)
    try:
        with transaction.atomic():  # a savepoint, to run the statement again in the same transaction
            written = upsert()
    except IntegrityError as exc:
        if not unique_violation(exc):
            raise
        # Postgres settles ON CONFLICT on `unique_field` alone. Two inserts of the same new row can
        # both pass that check; the second then meets the first on another unique index (a
        # customer's email, an item's inventory item id), waits for it to commit, and fails there.
        # Run again, the statement sees the committed row and becomes the conditional update. A
        # real collision with another record fails again, and is raised.
        written = upsert()
    stored = model._default_manager.get(**{unique_field: getattr(row, unique_field)})
    if not written:
        return stored, "stale"
    return stored, "created" if stored.created_at == row.created_at else "updated"
