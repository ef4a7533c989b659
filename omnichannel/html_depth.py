"""Customer HTML no deeper than a person writes it, before a sanitizer parses it.

nh3 (html5ever) takes time quadratic in the nesting depth: 8,000 nested <div>s clean in 0.14 s, 50,000
in 5 s, 200,000 (a 2 MB email) in minutes, held by an intake worker and again by every view of the
review page. Real mail nests tables in tables a few dozen levels at most, so tags that would open past
MAX_NESTING are dropped with their closing tags, and their text is kept. One pass over the tags, no parse.
"""

from __future__ import annotations

import re

MAX_NESTING = 100  # libxml2, which reads the cleaned HTML after nh3, gives up past 255 levels
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*)[^>]*>")
# Never nest: void elements, and those whose end tag is optional (a new one closes the last: <p>, <li>).
_NOT_COUNTED = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
                          "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup",
                          "thead", "tbody", "tfoot", "colgroup", "rt", "rp"})


def html_nesting_capped(html: str, *, max_depth: int = MAX_NESTING) -> str:
    """`html` with the tags that open deeper than `max_depth` (and their end tags) left out."""
    if html.count("<") <= max_depth:
        return html  # too few tags to be that deep: the common case, at the cost of one count
    depth = 0
    dropped: dict[str, int] = {}  # per tag name, opened past the limit and not yet closed
    parts: list[str] = []
    last = 0
    for match in _TAG.finditer(html):
        closing, name = match.group(1), match.group(2).lower()
        if name in _NOT_COUNTED or match.group(0).endswith("/>"):
            continue
        keep = True
        if closing:
            if dropped.get(name):
                dropped[name] -= 1
                keep = False
            else:
                depth = max(0, depth - 1)
        elif depth >= max_depth:
            dropped[name] = dropped.get(name, 0) + 1
            keep = False
        else:
            depth += 1
        if not keep:
            parts.append(html[last:match.start()])
            last = match.end()
    if not parts:
        return html
    parts.append(html[last:])
    return "".join(parts)
