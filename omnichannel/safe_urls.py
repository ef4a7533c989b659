"""Links taken from outside (a Shopify tracking URL) are kept only when they are plain web links.

An allow-list of schemes, never a deny-list: `javascript:`, `data:`, `vbscript:`, scheme-relative
`//host` and anything a browser might repair into one of them are all refused; so is any control
character, such as the tab or line break a browser drops from "java\\tscript:" before running it.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

ALLOWED_SCHEMES = ("http", "https")


def http_url(value) -> str:
    """The URL, normalized, if it is an absolute http(s) URL with a host; else ""."""
    if not isinstance(value, str) or not value.strip():
        return ""
    text = value.strip()
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        return ""
    try:
        parts = urlsplit(text)
    except ValueError:  # an unbalanced IPv6 bracket, say
        return ""
    if parts.scheme.lower() not in ALLOWED_SCHEMES or not parts.hostname:
        return ""
    return urlunsplit(parts)
