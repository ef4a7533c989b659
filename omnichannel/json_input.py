"""JSON from outside (webhooks, the API) parsed with a bound on its nesting.

`json.loads` recurses once per level: 100,000 `[` raise RecursionError (a 500 to the sender), and a
body just under Python's limit parses, then breaks whatever walks it next (the NUL stripping of
Zoho payloads, the encoder of a jsonb column). Real payloads nest a handful of levels (a Shopify
order about six), so deeper JSON is refused as bad input with a message naming the limit.
"""

from __future__ import annotations

import json

from omnichannel.errors import InvalidPayload

MAX_JSON_DEPTH = 64
TOO_DEEP = f"JSON nested more than {MAX_JSON_DEPTH} levels deep"


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


def json_parse(raw: str | bytes):
    """The JSON value of a request body, or InvalidPayload saying why not (not JSON, or nested too deep)."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise InvalidPayload(f"body is {TOO_DEEP}") from None
    except ValueError as exc:  # JSONDecodeError, and UnicodeDecodeError for bytes that are no UTF
        raise InvalidPayload(f"body is not JSON: {exc}") from None
    if json_too_deep(data):
        raise InvalidPayload(f"body is {TOO_DEEP}")
    return data
