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

from django.conf import settings
from django.db import connection


def pii_hash(email: str) -> str:
    digest = hmac.new(settings.PII_HASH_SALT.encode(), email.strip().lower().encode(), hashlib.sha256).hexdigest()
    return f"erased-{digest[:20]}@erased.invalid"


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
