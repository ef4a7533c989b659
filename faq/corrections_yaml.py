"""corrections.yaml <-> Correction rows, both ways.

The file is a list of {key, pattern, answer, sources, last_verified}. An import is all or
nothing: the whole file is validated first (a malformed file is refused with the line and the
reason), then every entry is upserted in one transaction through `correction_upsert`.
"""

from __future__ import annotations

import datetime as dt
import re

import yaml
from django.db import transaction

from faq.models import Correction
from faq.services import correction_upsert
from omnichannel.errors import ApplicationError, InvalidPayload

_KEY = re.compile(r"^[-a-zA-Z0-9_]{1,100}$")


def _line_of(node) -> int:
    return node.start_mark.line + 1


def corrections_parse(text: str) -> list[dict]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        if mark is not None and mark.line >= len(text.splitlines()) and getattr(exc, "context_mark", None):
            # The parser ran off the end (an unclosed bracket or quote): name the line where it was opened.
            mark = exc.context_mark
        line = mark.line + 1 if mark else "?"
        raise InvalidPayload(f"line {line}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if root is None:
        return []
    if not isinstance(root, yaml.SequenceNode):
        raise InvalidPayload(f"line {_line_of(root)}: the file must be a list of corrections")
    entries, seen = [], set()
    for node in root.value:
        line = _line_of(node)
        item = yaml.safe_load(yaml.serialize(node))
        if not isinstance(item, dict):
            raise InvalidPayload(f"line {line}: each correction must be a mapping")
        for name in ("key", "pattern", "answer"):
            if not isinstance(item.get(name), str) or not item[name].strip():
                raise InvalidPayload(f"line {line}: {name!r} is required and must be text")
        if not _KEY.match(item["key"]):
            raise InvalidPayload(f"line {line}: key {item['key']!r} may hold only letters, digits, - and _")
        if item["key"] in seen:
            raise InvalidPayload(f"line {line}: key {item['key']!r} appears twice")
        seen.add(item["key"])
        sources = item.get("sources") or []
        if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            raise InvalidPayload(f"line {line}: 'sources' must be a list of text")
        verified = item.get("last_verified")
        if verified is not None and not isinstance(verified, dt.date):
            raise InvalidPayload(f"line {line}: 'last_verified' must be a date like 2026-11-01")
        entries.append({"key": item["key"], "pattern": item["pattern"], "answer": item["answer"],
                        "sources": sources, "last_verified": verified, "is_active": bool(item.get("active", True))})
    return entries


@transaction.atomic
def corrections_import(text: str, *, acting_user=None) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in corrections_parse(text):  # everything validated before anything is written
        try:
            _, outcome = correction_upsert(**entry, acting_user=acting_user)
        except ApplicationError as exc:  # customer data in it: the transaction rolls every row back
            raise InvalidPayload(f"correction {entry['key']!r}: {exc.message}") from None
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def corrections_export() -> str:
    rows = [{"key": c.key, "pattern": c.pattern, "answer": c.answer, "sources": c.sources,
             "last_verified": c.last_verified, **({} if c.is_active else {"active": False})}
            for c in Correction.objects.order_by("key")]
    return yaml.safe_dump(rows, sort_keys=False, allow_unicode=True)
