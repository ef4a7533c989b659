"""Correction candidates: the same edit made by agents again and again, for Ops to turn into a Correction.

Read from the unified diffs of edited approvals: each run of removed lines and the added lines
that follow it is compared word by word, and every changed span becomes a (removed phrase ->
added phrase) pair, normalized (case, spacing, punctuation at the ends). A one-word change keeps
one word of context on each side ("is 14 days" -> "is 21 days"), so "14" -> "21" alone does not
merge unrelated edits. Pairs are counted once per approval, ranked by how many approvals made
them (then by recency), and left out when an active Correction's answer already says the added
words.

An edit often puts one customer's facts in ("Hi Ada, UPS 1Z… left today"). What Ops see and what
the "create" button pre-fills is scrubbed of them first (names, emails, phones, addresses, order and
tracking numbers become placeholders, `omnichannel.pii_scrub`), and a suggested pattern is never a
word of a sender's name or address: a correction's answer goes into every matching customer's draft
(`correction_upsert` refuses customer facts outright).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db import models
from django.utils.text import slugify

from conversations.models import Approval, Draft
from customers.selectors import customers_known_facts
from faq.models import Correction
from omnichannel.pii_scrub import KnownFacts, known_facts, pii_scrub

_EDGE_PUNCTUATION = ".,;:!?\"'()[]"
_WORD = re.compile(r"[a-z][a-z'-]{3,}")
_STOPWORDS = {"your", "that", "this", "with", "have", "from", "what", "when", "where", "will", "would", "could",
              "there", "their", "about", "please", "thanks", "thank", "hello", "order", "just", "know", "like"}


@dataclass(frozen=True)
class Replacement:
    removed: str  # normalized, with context for one-word changes
    added: str
    added_core: str  # the added words alone, what a Correction's answer would have to say
    added_line: str  # the agent's full added line(s), as written: the suggested answer
    removed_text: str = ""  # the two phrases as written (case kept): what the customer-data scrub reads
    added_text: str = ""


@dataclass
class CorrectionCandidate:
    removed: str
    added: str
    count: int
    last_seen: datetime
    approval_ids: list[int] = field(default_factory=list)
    example_line: str = ""
    suggested_pattern: str = ""

    @property
    def suggested_key(self) -> str:
        return slugify(f"edit {self.added or 'remove ' + self.removed}")[:60].strip("-") or "edit-pattern"


def _norm_token(token: str) -> str:
    return token.lower().strip(_EDGE_PUNCTUATION)


def _phrase(tokens: list[str]) -> str:
    return " ".join(t for t in (_norm_token(t) for t in tokens) if t)


def _blocks(diff: str) -> list[tuple[list[str], list[str]]]:
    """(removed lines, added lines) for each change in a unified diff, context lines dropped."""
    blocks, removed, added = [], [], []
    for line in diff.splitlines():
        if line.startswith(("---", "+++")) and not removed and not added:
            continue  # file headers
        if line.startswith("-"):
            if added:  # a new removal after additions starts another change
                blocks.append((removed, added))
                removed, added = [], []
            removed.append(line[1:])
        elif line.startswith("+"):
            added.append(line[1:])
        else:  # context or a hunk header ends the change
            if removed or added:
                blocks.append((removed, added))
            removed, added = [], []
    if removed or added:
        blocks.append((removed, added))
    return blocks


def _spans(opcodes: list[tuple]) -> list[tuple[int, int, int, int]]:
    """Changed spans, with changes one equal word apart merged ("3-5 days" -> "5-7 business days")."""
    spans: list[list[int]] = []
    previous_equal = None
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            previous_equal = (i1, i2)
            continue
        if spans and previous_equal and previous_equal[1] - previous_equal[0] <= 1 and spans[-1][1] == previous_equal[0]:
            spans[-1][1], spans[-1][3] = i2, j2
        else:
            spans.append([i1, i2, j1, j2])
        previous_equal = None
    return [tuple(s) for s in spans]


def diff_replacements(diff: str) -> list[Replacement]:
    """Every (removed phrase -> added phrase) an edit made, normalized; identical sides dropped."""
    found = []
    for removed_lines, added_lines in _blocks(diff):
        before, after = " ".join(removed_lines).split(), " ".join(added_lines).split()
        matcher = difflib.SequenceMatcher(a=[_norm_token(t) for t in before], b=[_norm_token(t) for t in after],
                                          autojunk=False)
        for i1, i2, j1, j2 in _spans(matcher.get_opcodes()):
            core = _phrase(after[j1:j2])
            if i2 - i1 <= 1 and j2 - j1 <= 1 and (i1 > 0 or i2 < len(before)):
                # One word for one word: keep a word of context each side (the tokens around it are equal).
                i1, j1 = (i1 - 1, j1 - 1) if i1 > 0 and j1 > 0 else (i1, j1)
                i2, j2 = (i2 + 1, j2 + 1) if i2 < len(before) and j2 < len(after) else (i2, j2)
            removed, added = _phrase(before[i1:i2]), _phrase(after[j1:j2])
            if removed != added:
                found.append(Replacement(removed=removed, added=added, added_core=core,
                                         added_line=" ".join(line.strip() for line in added_lines).strip(),
                                         removed_text=" ".join(before[i1:i2]), added_text=" ".join(after[j1:j2])))
    return found


def _covered(replacement: Replacement, answers: list[str]) -> bool:
    # Whole words only: a correction saying "days" does not cover an edit that added "day".
    return bool(replacement.added_core) and any(f" {replacement.added_core} " in f" {answer} " for answer in answers)


def _suggested_pattern(texts: list[str], senders: set[str]) -> str:
    """The word most of the customers' messages share (what a Correction's pattern matches), or ''.
    Never a word of a sender's name or address (`senders`)."""
    counts = Counter(word for text in texts for word in set(_WORD.findall(text.lower())) - _STOPWORDS - senders)
    if not counts:
        return ""
    word, seen = max(counts.items(), key=lambda item: (item[1], len(item[0]), item[0]))
    return word if seen * 2 >= len(texts) else ""


def correction_candidates(*, min_count: int = 3, limit: int = 20, scan: int = 5000) -> list[CorrectionCandidate]:
    """Repeated edits, most frequent first, leaving out what an active Correction already answers.
    Reads the newest `scan` edited approvals (one query, plus one for the corrections)."""
    approvals = (Approval.objects.filter(action=Approval.Action.EDIT).exclude(diff="")
                 .select_related("draft__reply_to").order_by("-taken_at", "-id")[:scan])
    answers = [_phrase(answer.split()) for answer in Correction.objects.filter(is_active=True)
               .values_list("answer", flat=True)]
    groups: dict[tuple[str, str], CorrectionCandidate] = {}
    messages: dict[tuple[str, str], list[str]] = {}
    senders: dict[tuple[str, str], set[str]] = {}  # words of the senders' names and addresses
    names: dict[tuple[str, str], set[str]] = {}  # the senders' names, scrubbed wherever they stand
    as_written: dict[tuple[str, str], Replacement] = {}  # the latest edit of each pair, case kept
    for approval in approvals:
        seen_here = set()
        for replacement in diff_replacements(approval.diff):
            key = (replacement.removed, replacement.added)
            if key in seen_here or _covered(replacement, answers):
                continue  # counted once per approval; or already a correction
            seen_here.add(key)
            candidate = groups.get(key)
            if candidate is None:  # approvals come newest first: the first one seen is the latest example
                candidate = groups[key] = CorrectionCandidate(
                    removed=replacement.removed, added=replacement.added, count=0, last_seen=approval.taken_at,
                    example_line=replacement.added_line)
                as_written[key] = replacement
            candidate.count += 1
            candidate.approval_ids.append(approval.pk)
            inbound = approval.draft.reply_to
            messages.setdefault(key, []).append(f"{inbound.subject} {inbound.body}" if inbound else "")
            if inbound:
                senders.setdefault(key, set()).update(w for w in re.split(r"[^a-z']+", (
                    f"{inbound.from_name} {inbound.from_address.partition('@')[0]}").lower()) if w)
                names.setdefault(key, set()).update(inbound.from_name.split())
    ranked = sorted((c for c in groups.values() if c.count >= min_count),
                    key=lambda c: (-c.count, -c.last_seen.timestamp(), c.removed, c.added))[:limit]
    known = customers_known_facts() if ranked else None
    for candidate in ranked:
        key = (candidate.removed, candidate.added)
        candidate.suggested_pattern = _suggested_pattern(messages[key], senders.get(key, set()))
        _scrub(candidate, as_written[key], known | known_facts(first_names=names.get(key, set())))
    return ranked


def _scrub(candidate: CorrectionCandidate, written: Replacement, known: KnownFacts) -> None:
    """Customers' facts out of what is shown and pre-filled (the counts and ids stay). The phrases are
    scrubbed as written, then normalized: a street or a postcode has no shape once lower-cased."""
    for name, text in (("removed", written.removed_text), ("added", written.added_text)):
        scrubbed = pii_scrub(text, known=known)
        if scrubbed != text:
            setattr(candidate, name, " ".join(scrubbed.lower().split()).strip(".,;:!?\"'()"))
    candidate.example_line = pii_scrub(candidate.example_line, known=known)


def drafts_it_would_change(candidate: CorrectionCandidate, *, scan: int = 2000) -> list[int]:
    """Past drafts (newest `scan` first) the candidate, accepted as a correction, would have changed: their
    customer's message matches its suggested pattern as a correction's pattern is matched (assistants/context.py),
    and the draft did not already say its answer. Ids, newest first; none without a pattern."""
    return drafts_it_would_change_each([candidate], scan=scan)[0]


def drafts_it_would_change_each(candidates: list[CorrectionCandidate], *, scan: int = 2000) -> list[list[int]]:
    """`drafts_it_would_change` of each candidate, in one query whatever their number (the candidates page
    and API list up to 20, and ran one scan each): the drafts whose message contains any candidate's
    pattern, newest first, read until every candidate has seen its own newest `scan` (or none are left)."""

    found: list[list[int]] = [[] for _ in candidates]
    wanted = []  # (index, pattern, matcher, answer)
    for i, candidate in enumerate(candidates):
        pattern = candidate.suggested_pattern.strip().lower()
        if pattern:
            wanted.append((i, pattern, re.compile(rf"(?<![\w]){re.escape(pattern)}"),
                           _phrase((candidate.example_line or candidate.added).split())))
    if not wanted:
        return found
    matching = models.Q()
    for pattern in dict.fromkeys(p for _, p, _, _ in wanted):
        matching |= models.Q(reply_to__body__icontains=pattern) | models.Q(reply_to__subject__icontains=pattern)
    drafts = (Draft.objects.filter(reply_to__isnull=False).filter(matching).order_by("-created_at", "-id")
              .values_list("pk", "body", "reply_to__subject", "reply_to__body"))
    seen = [0] * len(wanted)
    still = set(range(len(wanted)))  # candidates that have not seen `scan` drafts yet
    for pk, body, subject, inbound in drafts.iterator(chunk_size=500):
        subject_lower, inbound_lower = subject.lower(), inbound.lower()
        text, said = f"{subject_lower}\n{inbound_lower}", None
        for w in list(still):
            i, pattern, matcher, answer = wanted[w]
            if pattern not in subject_lower and pattern not in inbound_lower:
                continue  # another candidate's draft: not one of this one's `scan`
            seen[w] += 1
            if seen[w] >= scan:
                still.discard(w)
            if matcher.search(text):
                said = said if said is not None else _phrase(body.split())
                if answer not in said:
                    found[i].append(pk)
        if not still:
            break
    return found


def correction_candidate_find(*, removed: str, added: str, min_count: int = 2) -> CorrectionCandidate | None:
    """The candidate with this (removed, added) pair as the approvals say it now, or None (no longer made
    `min_count` times, or a correction already covers it)."""
    return next((c for c in correction_candidates(min_count=min_count, limit=500)
                 if (c.removed, c.added) == (removed, added)), None)
