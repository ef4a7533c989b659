"""JSON from outside (webhooks, the API) parsed with a bound on its nesting.

`json.loads` recurses once per level: 100,000 `[` raise RecursionError (a 500 to the sender), and a
body just under Python's limit parses, then breaks whatever walks it next (the NUL stripping of
Zoho payloads, the encoder of a jsonb column). Real payloads nest a handful of levels (a Shopify
order about six), so deeper JSON is refused as bad input with a message naming the limit.

Python's parser also takes what JSON (RFC 8259) does not: NaN and Infinity, which no sender of ours
writes and which turn into a `nan` id or amount further on (as does 1e999, parsed as infinity), and
a lone UTF-16 surrogate escape (`"\\ud800"`), a string Postgres cannot store, that broke later on an
encoding error. All are refused here, as bad input naming what was found.
"""

from __future__ import annotations

import json
import math
import re

from omnichannel.errors import InvalidPayload

MAX_JSON_DEPTH = 64
TOO_DEEP = f"JSON nested more than {MAX_JSON_DEPTH} levels deep"
# A surrogate escape in the raw text: the only way a parsed string can hold a lone surrogate.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def json_too_deep(value, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a parsed JSON value has objects or arrays more than `limit` levels deep (the top is 1).
    A loop, not recursion: it must not fail on the very input it is there to catch."""
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _not_a_json_number(name: str):
    raise InvalidPayload(f"body is not JSON: {name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999: a number JSON allows, too large for any field of ours
        raise InvalidPayload(f"body is not JSON we can read: the number {text[:40]} is too large")
    return value


def _strings(value):
    """Every string of a parsed JSON value, keys too (a loop, like `json_too_deep`)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _lone_surrogate(raw: str | bytes, data) -> bool:
    raw_bytes = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    if not _SURROGATE_ESCAPE.search(raw_bytes):  # the common case: no walk at all
        return False
    return any(not text.isascii() and re.search("[\ud800-\udfff]", text) for text in _strings(data))


def json_parse(raw: str | bytes):
    """The JSON value of a request body, or InvalidPayload saying why not (not JSON, or nested too deep)."""
    try:
        data = json.loads(raw, parse_constant=_not_a_json_number, parse_float=_finite)
    except RecursionError:
        raise InvalidPayload(f"body is {TOO_DEEP}") from None
    except ValueError as exc:  # JSONDecodeError, and UnicodeDecodeError for bytes that are no UTF
        raise InvalidPayload(f"body is not JSON: {exc}") from None
    if json_too_deep(data):
        raise InvalidPayload(f"body is {TOO_DEEP}")
    if _lone_surrogate(raw, data):
        raise InvalidPayload("body is not JSON: a \\u escape names half of a UTF-16 surrogate pair alone")
    return data
