"""`field__any=[...]`: membership in a list sent as ONE array parameter (`= ANY(%s)`) on Postgres.

`field__in=[...]` with a backfill page's 250-750 values builds a statement with as many placeholders,
which Django compiles and psycopg splits and quotes one by one on every page (a third of a page's
tombstone and "unchanged" look-ups). One array parameter costs the same whatever the page size, and
Postgres plans it once. SQLite has no arrays: there it is the same `IN (...)` as `__in`.

Registered on every field when this module is imported (the modules that filter with it import it).
"""

from __future__ import annotations

import contextlib
import re

import psycopg
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Field, Lookup


@Field.register_lookup
class Any(Lookup):
    lookup_name = "any"
    prepare_rhs = False  # the list as a whole; each value is prepared below

    def get_db_prep_lookup(self, value, connection):
        field = self.lhs.output_field
        values = list(
            dict.fromkeys(
                field.get_db_prep_value(field.get_prep_value(v), connection, prepared=True) for v in value if v is not None
            )
        )
        if not values:
            raise EmptyResultSet  # like `__in=[]`: no row matches, and no query is run
        if connection.vendor == "postgresql":
            return "%s", [values]
        return "(" + ", ".join(["%s"] * len(values)) + ")", values

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if connection.vendor == "postgresql":
            # The array's element type is the column's, so Postgres compares like with like (and uses the index).
            cast = self.lhs.output_field.cast_db_type(connection) or self.lhs.output_field.db_type(connection)
            return f"{lhs} = ANY({rhs}::{cast}[])", [*lhs_params, *rhs_params]
        return f"{lhs} IN {rhs}", [*lhs_params, *rhs_params]


def fetch_together(queries: list) -> list[list[tuple]]:
    """The rows of several reads, each a `values_list` queryset or an (sql, params) pair, in ONE round trip
    on Postgres: psycopg's pipeline mode sends every statement, then reads every result. A backfill page's
    look-ups each waited for their own round trip, which on a loaded machine waits for a core each time.
    The statements still run one after the other in the order given, each on its own snapshot, exactly as
    separate queries would (READ COMMITTED). Elsewhere (SQLite) they are simply run in turn.
    A queryset that can match nothing (`__any=[]`) is not sent and gives []."""
    compiled = []
    if not queries:
        return []
    for query in queries:
        try:
            compiled.append(query if isinstance(query, tuple) else query.query.sql_with_params())
        except EmptyResultSet:
            compiled.append(None)
    if connection.vendor != "postgresql":
        results = []
        for query, sql in zip(queries, compiled, strict=True):
            if sql is None:
                results.append([])
            elif isinstance(query, tuple):
                with connection.cursor() as cursor:
                    cursor.execute(*sql)
                    results.append(cursor.fetchall())
            else:
                results.append(list(query))
        return results
    connection.ensure_connection()
    raw = connection.connection
    with connection.wrap_database_errors:
        cursors = [None if sql is None else psycopg.Cursor(raw) for sql in compiled]
        try:
            # Leaving the pipeline sends the one Sync and reads every result; one statement needs none.
            with raw.pipeline() if len(compiled) - compiled.count(None) > 1 else contextlib.nullcontext():
                for cursor, sql in zip(cursors, compiled, strict=True):
                    if cursor is not None:
                        cursor.execute(*_binary_arrays(*sql))
            return [[] if cursor is None else cursor.fetchall() for cursor in cursors]
        finally:
            for cursor in cursors:
                if cursor is not None:
                    cursor.close()


_PLACEHOLDER = re.compile(r"%[s%]")


def _binary_arrays(sql: str, params) -> tuple[str, list]:
    """The statement with `%b` for its list parameters: psycopg dumps a list of text in binary in C, where
    the text form quotes element by element in Python and Postgres parses the literal back (a page's 750
    tombstone keys: ~10 ms a page wall at load, ~2.5 ms binary, measured alternated on this machine)."""
    params = list(params)
    positions = iter(params)

    def placeholder(match: re.Match) -> str:
        if match.group(0) == "%%":
            return "%%"
        return "%b" if isinstance(next(positions), (list, tuple)) else "%s"

    return _PLACEHOLDER.sub(placeholder, sql), params
