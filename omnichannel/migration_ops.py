"""Migration operations shared by the apps."""

from __future__ import annotations

from django.db import migrations


def _legacy_alter(value: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(f"PRAGMA legacy_alter_table = {value}")

    return run


def sqlite_views_tolerate_rebuilds(operations: list) -> list:
    """Wrap `operations` that make SQLite rebuild a table (changing a CHECK constraint does) read by
    views (model_quality, customer_summary): SQLite otherwise refuses the rebuild's final rename.
    `legacy_alter_table` skips that view check; the views name the table, which exists again at once."""
    return [migrations.RunPython(_legacy_alter("ON"), _legacy_alter("OFF")), *operations,
            migrations.RunPython(_legacy_alter("OFF"), _legacy_alter("ON"))]
