"""Bulk-loading benchmark data with COPY (the benchmarks measure reads, not this load)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

from django.db import connection

STATUSES = ["pending", "paid", "backordered", "partially_fulfilled", "fulfilled", "refunded", "cancelled"]


def _copy(table: str, columns: list[str], rows) -> None:
    quoted = ", ".join(f'"{c}"' for c in columns)  # "references" is an SQL keyword
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def customers_and_orders(customers: int, orders: int) -> None:
    now = datetime.now(UTC)
    rng = random.Random(1)
    _copy("customers", ["id", "email", "shopify_id", "name", "phone", "lifetime_value_cents", "currency",
                        "orders_count", "segment", "shipping_addresses", "tags", "is_erased", "created_at", "updated_at"],
          ((i, f"c{i}@bench.example", str(1_000_000 + i), f"Customer {i}", "", 1000 * (i % 50), "USD", 3, "returning",
            "[]", "", False, now, now) for i in range(1, customers + 1)))
    _copy("orders", ["shopify_id", "name", "customer_id", "email", "status", "financial_status", "fulfillment_status",
                     "tracking_numbers", "tracking", "line_items", "refunds", "total_price_cents", "currency",
                     "shipping_address", "placed_at", "is_erased", "created_at", "updated_at"],
          ((str(5_000_000 + i), f"#{i}", (i % customers) + 1 if i % 20 else None, f"c{(i % customers) + 1}@bench.example",
            STATUSES[i % len(STATUSES)], "paid", "", json.dumps([f"1Z{i}"]),
            json.dumps([{"number": f"1Z{i}", "company": "UPS", "url": ""}]),
            json.dumps([{"sku": f"SKU-{i % 300}", "title": "Thing", "quantity": 1}]), "[]", 1000 + i % 9000, "USD", "{}",
            now - timedelta(minutes=rng.randint(0, 500_000)), False, now, now) for i in range(orders)))
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('customers', 'id'), %s)", [customers])
        cursor.execute("ANALYZE customers; ANALYZE orders")


def conversations_messages_drafts(conversations: int, messages_per: int, pending: int, customers: int) -> None:
    now = datetime.now(UTC)
    _copy("conversations", ["id", "channel", "external_thread_id", "subject", "customer_id", "status", "unread_count",
                            "is_archived", "archive_blob_key", "last_message_at", "created_at", "updated_at"],
          ((i, "email", f"t{i}", f"Question {i} about my order", (i % customers) + 1 if customers else None, "open", 1,
            False, "", now, now, now) for i in range(1, conversations + 1)))
    _copy("messages", ["conversation_id", "direction", "external_msg_id", "rfc_message_id", "in_reply_to", "references",
                       "from_address", "from_name", "to_addresses", "cc_addresses", "subject", "body", "body_html",
                       "attachments", "raw_payload", "is_erased", "sent_at", "created_at", "headers", "triage_label",
                       "triage_reason"],
          ((1 + i // messages_per, "inbound" if i % 2 == 0 else "outbound", f"m{i}", "", "", "", f"c{i}@bench.example",
            "", "[]", "[]", "Question", f"Hello, where is my order {i}?", "", "[]", "{}", False,
            now - timedelta(seconds=i), now, "{}", "", "") for i in range(conversations * messages_per)))
    _copy("drafts", ["conversation_id", "body", "confidence", "intent", "status", "send_attempts", "last_send_error",
                     "created_at", "updated_at", "origin", "waiting_since", "send_stopped"],
          ((i, f"Hi, your order {i} has shipped.", (i % 100) / 100, "order_status", "pending" if i <= pending else "sent",
            0, "", now - timedelta(seconds=conversations - i), now, "assistant",
            now - timedelta(seconds=conversations - i), False) for i in range(1, conversations + 1)))
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('conversations', 'id'), %s)", [conversations])
        cursor.execute("ANALYZE conversations; ANALYZE messages; ANALYZE drafts")
