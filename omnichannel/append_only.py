"""Append-only tables: rows can be created and read, never changed or deleted by our code.

The model refuses `save()` on an existing row and `delete()`; its queryset refuses
`update()` and `delete()`. On Postgres a trigger (see the migrations) refuses UPDATE and
DELETE as well, except inside a transaction that set `omnichannel.pii_erasure = 'on'`: the
one legal rewrite is the PII erasure of the retention issue.
"""

from __future__ import annotations

from django.db import migrations, models

from omnichannel.errors import AppendOnlyError


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only and cannot be updated.")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only and cannot be deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only and cannot be updated.")

    def update_or_create(self, *args, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: use create().")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only and cannot be changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only and cannot be deleted.")


def append_only_trigger_sql(table: str) -> tuple[str, str]:
    """(forward, reverse) SQL installing the Postgres guard trigger on `table`."""
    forward = f"""
CREATE OR REPLACE FUNCTION omni_refuse_change() RETURNS trigger AS $$
BEGIN
  IF current_setting('omnichannel.pii_erasure', true) = 'on' THEN
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% rows are append-only (% refused)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS {table}_append_only ON {table};
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
  FOR EACH ROW EXECUTE FUNCTION omni_refuse_change();
"""
    reverse = f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};"
    return forward, reverse


def install_trigger_operation(table: str):
    """A migration operation installing the guard on Postgres (SQLite relies on the model)."""
    forward_sql, reverse_sql = append_only_trigger_sql(table)

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            # A plain cursor without parameters: the function body's '%' must not be interpolated.
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(forward_sql)

    def reverse(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(reverse_sql)

    return migrations.RunPython(forward, reverse)
