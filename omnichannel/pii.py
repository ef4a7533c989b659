"""Erasing personal data in place, the same way everywhere (retention and erasure requests).

Emails become a stable hash (`erased-<hash>@erased.invalid`, the same email always gives the
same hash, so counts and joins by customer still work); names, bodies and addresses are blanked;
ids, amounts, statuses and timestamps stay, so metrics and history keep adding up. Approvals
and audit rows are append-only: their rewrite goes through raw SQL in a transaction that sets
`omnichannel.pii_erasure = 'on'`, the one exception the Postgres trigger allows.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from django.conf import settings
from django.db import connection

ERASED_DOMAIN = "@erased.invalid"


def pii_hash(email: str) -> str:
    digest = hmac.new(settings.PII_HASH_SALT.encode(), email.strip().lower().encode(), hashlib.sha256).hexdigest()
    return f"erased-{digest[:20]}{ERASED_DOMAIN}"


def email_unless_erased(value: str) -> str:
    """The address an email field holds, normalized, or "" when it holds none: blank, not an address,
    or already the stand-in `pii_hash` left there (an erased address is not erased twice)."""
    value = (value or "").strip().lower()
    return value if "@" in value and not value.endswith(ERASED_DOMAIN) else ""


def pii_key(kind: str, value: str) -> str:
    """A keyed hash (HMAC-SHA256 with PII_HASH_SALT) of one identifier, for the erasure tombstones:
    it answers "was this address (or Shopify id) erased?" without keeping the address. `kind`
    separates the namespaces, so a Shopify customer id never matches an order id. PII_HASH_SALT must
    never change once set: every tombstone and every erased address is keyed with it."""
    normalized = value.strip().lower()
    # hmac.digest: the same HMAC in one C call (a backfill page hashes 750 identifiers; hmac.new is 2x slower).
    return hmac.digest(settings.PII_HASH_SALT.encode(), f"{kind}:{normalized}".encode(), "sha256").hex()


def allow_append_only_rewrite() -> None:
    """Inside the current transaction only (SET LOCAL): lets the erasure rewrite approvals and audit rows."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL omnichannel.pii_erasure = 'on'")


def approvals_blank(draft_ids: list[int]) -> int:
    """Blank the texts of the approvals of these drafts (what was sent is personal data too)."""
    if not draft_ids:
        return 0
    allow_append_only_rewrite()
    marks = ", ".join(["%s"] * len(draft_ids))
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE approvals SET final_text = '', diff = '', reason = '' WHERE draft_id IN ({marks})",  # noqa: S608
                       draft_ids)
        return cursor.rowcount


def approvals_restore(rows: list[dict]) -> None:
    allow_append_only_rewrite()
    with connection.cursor() as cursor:
        for row in rows:
            cursor.execute("UPDATE approvals SET final_text = %s, diff = %s, reason = %s WHERE id = %s",
                           [row["final_text"], row["diff"], row["reason"], row["id"]])


def deliveries_mentioning(email: str) -> list[int]:
    """Raw webhook deliveries whose bytes contain this address (bodies are kept raw, so they hold PII)."""
    needle = email.strip().lower().encode()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # encode(..., 'escape') keeps ASCII as is (an address is ASCII) and escapes other bytes.
            cursor.execute("SELECT id FROM webhook_deliveries WHERE position(%s in lower(encode(body, 'escape'))) > 0 "
                           "AND NOT is_erased", [needle.decode()])
        else:
            cursor.execute("SELECT id FROM webhook_deliveries WHERE instr(lower(CAST(body AS TEXT)), ?) > 0 "
                           "AND NOT is_erased", [needle.decode()])
        return [row[0] for row in cursor.fetchall()]


def deliveries_naming_shopify_ids(*, customer_ids: set[str], order_ids: set[str]) -> list[int]:
    """Raw Shopify deliveries about these customers or orders by id only: an order webhook names its
    customer as {"customer": {"id": ...}}, a fulfillment or refund names its order as "order_id", a
    customer webhook is the customer itself. The SQL finds the bodies holding any of the numbers;
    each is then read as JSON, so an id that only appears inside another number or field is no match."""
    # Shopify ids are numbers (the normalizers refuse anything else): only digits reach the pattern below.
    customer_ids = {str(i) for i in customer_ids if str(i).isdigit()}
    order_ids = {str(i) for i in order_ids if str(i).isdigit()}
    needles = sorted(customer_ids | order_ids)
    if not needles:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT id, topic, body FROM webhook_deliveries WHERE source = 'shopify' AND NOT is_erased "
                           "AND encode(body, 'escape') ~ %s", ["(" + "|".join(needles) + ")"])
        else:
            marks = " OR ".join(["instr(CAST(body AS TEXT), ?) > 0"] * len(needles))
            cursor.execute(f"SELECT id, topic, body FROM webhook_deliveries WHERE source = 'shopify' "  # noqa: S608
                           f"AND NOT is_erased AND ({marks})", needles)
        rows = cursor.fetchall()
    return [pk for pk, topic, body in rows if _names_shopify_ids(topic, bytes(body), customer_ids, order_ids)]


def _names_shopify_ids(topic: str, body: bytes, customer_ids: set[str], order_ids: set[str]) -> bool:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    if not isinstance(data, dict):
        return False
    customer = data.get("customer") if isinstance(data.get("customer"), dict) else {}
    named_customers = {str(customer.get("id", "")), str(data.get("customer_id", ""))}
    named_orders = {str(data.get("order_id", ""))} | {str(i) for i in data.get("orders_to_redact") or []
                                                      if isinstance(i, (int, str))}
    if topic.startswith("customers/"):
        named_customers.add(str(data.get("id", "")))
    if topic.startswith(("orders/", "checkouts/")):
        named_orders.add(str(data.get("id", "")))
    return bool(named_customers & customer_ids or named_orders & order_ids)
