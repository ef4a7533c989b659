"""The customer_summary read model: a materialized view on Postgres, a plain view on SQLite.

One row per (not erased) customer: their facts, their five latest orders (by account, or by
checkout email for orders placed before the account existed) with status and tracking, how many
are backordered, and their pending drafts. Postgres refreshes it CONCURRENTLY (the unique
index allows that) from the debounced task `refresh_customer_summary`.
"""

from django.db import migrations

_ORDERS = """
    SELECT o.id, o.name, o.status, o.tracking, o.placed_at, o.total_price_cents FROM orders o
    WHERE o.customer_id = c.id AND NOT o.is_erased
    UNION
    SELECT o.id, o.name, o.status, o.tracking, o.placed_at, o.total_price_cents FROM orders o
    WHERE o.customer_id IS NULL AND c.email <> '' AND lower(o.email) = lower(c.email) AND NOT o.is_erased
"""

POSTGRES = f"""
CREATE MATERIALIZED VIEW customer_summary AS
SELECT c.id AS customer_id, lower(c.email) AS email, c.name, c.segment, c.lifetime_value_cents, c.currency,
       c.orders_count, c.shipping_addresses,
       COALESCE((SELECT json_agg(json_build_object('id', lo.id, 'name', lo.name, 'status', lo.status,
                                                   'tracking', lo.tracking, 'placed_at', lo.placed_at,
                                                   'total_price_cents', lo.total_price_cents)
                                 ORDER BY lo.placed_at DESC NULLS LAST, lo.id DESC)
                 FROM (SELECT * FROM ({_ORDERS}) co ORDER BY co.placed_at DESC NULLS LAST, co.id DESC LIMIT 5) lo),
                '[]'::json) AS latest_orders,
       (SELECT count(*) FROM ({_ORDERS}) bo WHERE bo.status = 'backordered') AS backordered_count,
       COALESCE((SELECT json_agg(json_build_object('id', d.id, 'conversation_id', d.conversation_id,
                                                   'intent', d.intent, 'confidence', d.confidence,
                                                   'created_at', d.created_at) ORDER BY d.created_at, d.id)
                 FROM drafts d JOIN conversations cv ON cv.id = d.conversation_id
                 WHERE cv.customer_id = c.id AND d.status = 'pending'), '[]'::json) AS open_drafts,
       now() AS refreshed_at
FROM customers c
WHERE NOT c.is_erased;
CREATE UNIQUE INDEX customer_summary_customer_id ON customer_summary (customer_id);
CREATE INDEX customer_summary_email ON customer_summary (email);
"""

SQLITE = f"""
CREATE VIEW customer_summary AS
SELECT c.id AS customer_id, lower(c.email) AS email, c.name, c.segment, c.lifetime_value_cents, c.currency,
       c.orders_count, c.shipping_addresses,
       (SELECT json_group_array(json_object('id', lo.id, 'name', lo.name, 'status', lo.status,
                                            'tracking', json(lo.tracking), 'placed_at', lo.placed_at,
                                            'total_price_cents', lo.total_price_cents))
        FROM (SELECT * FROM ({_ORDERS}) co ORDER BY co.placed_at IS NULL, co.placed_at DESC, co.id DESC LIMIT 5) lo)
         AS latest_orders,
       (SELECT count(*) FROM ({_ORDERS}) bo WHERE bo.status = 'backordered') AS backordered_count,
       (SELECT json_group_array(json_object('id', d.id, 'conversation_id', d.conversation_id, 'intent', d.intent,
                                            'confidence', d.confidence, 'created_at', d.created_at))
        FROM (SELECT d.* FROM drafts d JOIN conversations cv ON cv.id = d.conversation_id
              WHERE cv.customer_id = c.id AND d.status = 'pending' ORDER BY d.created_at, d.id) d) AS open_drafts,
       CURRENT_TIMESTAMP AS refreshed_at
FROM customers c
WHERE NOT c.is_erased;
"""


def create(apps, schema_editor):
    schema_editor.execute(POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP MATERIALIZED VIEW IF EXISTS customer_summary")
    else:
        schema_editor.execute("DROP VIEW IF EXISTS customer_summary")


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial"), ("conversations", "0004_draft_sending_claim")]
    operations = [migrations.RunPython(create, drop)]
