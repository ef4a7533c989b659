"""An erased customer's mentions in curated knowledge: FAQ entries (published ones and the draft
proposals), corrections (the rows that mirror corrections.yaml) and the FAQ pages we published.

Knowledge is written from customers' emails (proposals from frequent questions, corrections from
agents' edits), so a customer's address, name or phone can end up in it. Each entry that names her
(her address, full name or phone) has those replaced by `[erased]`, and her name's words too, within
that entry only: a word of her name elsewhere ("Rose", "Price") is left alone. The edits go through
the services that own them, so a published entry's page is rebuilt and a changed correction
re-drafts what it touches. The rendered FAQ pages we kept that quote her are deleted.

corrections.yaml exists only where an operator exports it (`manage.py corrections --export FILE`):
the rows are the source, so an export taken before an erasure must be exported again (README).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import transaction

from customers.parts import Erasure
from faq.models import Correction, FaqEntry, FaqPublication
from faq.services import correction_upsert, faq_entry_edit
from faq.services_proposals import faq_proposals_erase_customer
from omnichannel.blobstore import blob_delete, blob_get

ERASED = "[erased]"
_SEPARATORS = r"[\s().\-/]*"


@dataclass(frozen=True)
class Mentions:
    """What identifies the erased person in free text."""

    emails: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)

    def _phone_patterns(self) -> list[str]:
        patterns = []
        for phone in self.phones:
            digits = re.sub(r"\D", "", phone)
            if len(digits) >= 6:
                # Its last 9 digits (the national number) in any punctuation, with the country or area
                # code in front of it whichever way it is written.
                patterns.append(r"(?:\+?\d{1,4}" + _SEPARATORS + "){0,3}" + _SEPARATORS.join(digits[-9:]))
        return patterns

    def identifying(self) -> re.Pattern | None:
        """Her address, full name or phone: an entry holding one of these is about her. A name of one word
        ("Ada", as a sender may sign) identifies no one; it is only replaced within her entries."""
        parts = [re.escape(e) for e in self.emails]
        parts += [r"\b" + r"\s+".join(re.escape(w) for w in name.split()) + r"\b" for name in self.names
                  if len(name.split()) >= 2]
        parts += self._phone_patterns()
        return re.compile("|".join(parts), re.IGNORECASE) if parts else None

    def everything(self) -> re.Pattern | None:
        """The above and each word of her names (three letters or more): replaced within her entries."""
        identifying = self.identifying()
        if identifying is None:
            return None
        words = sorted({w for name in self.names for w in name.split() if len(w) >= 3}, key=len, reverse=True)
        extra = [r"\b" + re.escape(w) + r"\b" for w in words]
        return re.compile("|".join([identifying.pattern, *extra]), re.IGNORECASE)


def _scrubbed(text: str, mentions: Mentions) -> str:
    return mentions.everything().sub(ERASED, text)


@transaction.atomic
def faq_mentions_erase(*, mentions: Mentions, acting_user=None) -> dict[str, int]:
    """Returns how many entries and corrections named her. FAQ entries and corrections are read whole:
    they are tens or hundreds of rows, and the forms a phone or a name takes in text are not something
    a database LIKE can find. The FAQ pages quoting her are deleted after commit (blob reads are I/O)."""
    identifying = mentions.identifying()
    if identifying is None:
        return {"faq_entries": 0, "corrections": 0}
    entries = [e for e in FaqEntry.objects.order_by("pk") if identifying.search(f"{e.question}\n{e.answer}")]
    published = False
    for entry in entries:
        faq_entry_edit(entry_id=entry.pk, question=_scrubbed(entry.question, mentions)[:500],
                       answer=_scrubbed(entry.answer, mentions), source_intent=entry.source_intent,
                       position=entry.position, acting_user=acting_user)
        published |= entry.status == FaqEntry.Status.PUBLISHED
    corrections = [c for c in Correction.objects.order_by("pk")
                   if identifying.search("\n".join([c.pattern, c.answer, *map(str, c.sources)]))]
    for correction in corrections:
        correction_upsert(key=correction.key, pattern=_scrubbed(correction.pattern, mentions)[:500],
                          answer=_scrubbed(correction.answer, mentions),
                          sources=[_scrubbed(str(s), mentions) for s in correction.sources],
                          last_verified=correction.last_verified, is_active=correction.is_active,
                          acting_user=acting_user, scrubbing=True)
    if published:
        transaction.on_commit(lambda: faq_pages_quoting_erase(identifying=identifying))
    return {"faq_entries": len(entries), "corrections": len(corrections)}


def faq_pages_quoting_erase(*, identifying: re.Pattern) -> int:
    """Delete the rendered FAQ pages we kept (one blob per publication) that quote her. The page on the
    shop is rebuilt by `rebuild_faq_page`, which the edit of a published entry enqueued."""
    keys = []
    for key in FaqPublication.objects.exclude(blob_key="").values_list("blob_key", flat=True).distinct():
        try:
            html = blob_get(key).decode("utf-8", errors="replace")
        except FileNotFoundError:
            continue
        if identifying.search(html):
            keys.append(key)
    with transaction.atomic():
        FaqPublication.objects.filter(blob_key__in=keys).update(blob_key="")
    for key in keys:
        blob_delete(key)
    return len(keys)


def faq_erase_customer(erasure: Erasure) -> dict[str, int]:
    """The faq app's part of a customer's erasure (registered with customers/parts.py in FaqConfig.ready),
    after her messages are blanked: the entries and corrections that name her, and the proposals built
    from her conversations (their replies leave them, and they are composed again without them)."""
    counts = faq_mentions_erase(mentions=Mentions(emails=erasure.emails, names=erasure.mention_names(),
                                                  phones=erasure.phones), acting_user=erasure.acting_user)
    counts["faq_proposals"] = faq_proposals_erase_customer(conversation_ids=list(erasure.conversation_ids),
                                                           acting_user=erasure.acting_user)
    return counts
