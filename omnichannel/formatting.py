"""How amounts read for people: every app shows money the same way."""

from __future__ import annotations


def money(cents: int | None, currency: str) -> str:
    """"1,234.50 EUR" from integer cents; "-" when the amount is unknown."""
    if cents is None:
        return "-"
    return f"{cents / 100:,.2f} {currency}"
