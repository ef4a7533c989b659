"""Writes of curated knowledge: FAQ entries and corrections."""

from __future__ import annotations

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from conversations.models import Draft
from customers.selectors import customers_known_facts
from faq.correction_candidates import correction_candidate_find
from faq.models import Correction, FaqEntry, FaqPublication, faq_question_key
from omnichannel.audit import audit_log_write
from omnichannel.errors import ApplicationError
from omnichannel.jobs import enqueue
from omnichannel.pii_scrub import pii_found
from omnichannel.task_names import TaskName


def faq_entry_check_public(*, question: str, answer: str) -> None:
    """Refuse text for the shop's public FAQ page that holds a customer's facts (a tracking number, a
    street address, an order number, a name we hold...): Ops edit them out, then publish."""
    found = pii_found(f"{question}\n\n{answer}", known=customers_known_facts())
    if found:
        raise ApplicationError(f"This FAQ entry holds customer data ({', '.join(found)}); edit it out before "
                               "it goes on the shop's public FAQ page.", extra={"found": found})


def faq_entry_check_duplicate(*, question: str, exclude_id: int | None = None) -> None:
    """Refuse a question an FAQ entry (draft or published) already asks: two entries answering one
    question would drift apart, and the shop's page would show it twice. Archived entries do not count.
    The database enforces the same rule (`faq_question_unique_open`); this check gives the clear error."""
    key = faq_question_key(question)
    if not key:
        return
    existing = (FaqEntry.objects.exclude(status=FaqEntry.Status.ARCHIVED).exclude(pk=exclude_id)
                .filter(question_key=key).order_by("pk").values_list("pk", "question").first())
    if existing is not None:
        pk, asked = existing
        raise ApplicationError(f"FAQ entry {pk} already asks this question: “{asked}”. Edit that entry "
                               "instead of adding a second one.",
                               extra={"duplicate_of": {"id": pk, "question": asked}})


def _save_refusing_duplicate(entry: FaqEntry, **save_kwargs) -> None:
    """Save, and turn the unique index's refusal into the check's error: a request racing ours added the
    same question after our check (both checks saw nothing; the index lets one insert through)."""
    try:
        with transaction.atomic():  # a savepoint: the transaction stays usable to name the other entry
            entry.save(**save_kwargs)
    except IntegrityError:
        faq_entry_check_duplicate(question=entry.question, exclude_id=entry.pk)
        raise


@transaction.atomic
def faq_entry_create(*, question: str, answer: str, source_intent: str = "", acting_user=None,
                     status: str = FaqEntry.Status.DRAFT, position: int = 0) -> FaqEntry:
    entry = FaqEntry(question=question.strip(), answer=answer.strip(), source_intent=source_intent, status=status,
                     position=position, created_by=acting_user if getattr(acting_user, "pk", None) else None,
                     published_at=timezone.now() if status == FaqEntry.Status.PUBLISHED else None)
    faq_entry_check_duplicate(question=entry.question)
    if status == FaqEntry.Status.PUBLISHED:
        faq_entry_check_public(question=entry.question, answer=entry.answer)
    entry.full_clean()
    _save_refusing_duplicate(entry)
    audit_log_write(event_type="faq.created", payload={"status": status, "source_intent": source_intent},
                    acting_user=acting_user, obj=entry)
    return entry


@transaction.atomic
def faq_entry_publish(*, entry_id: int, acting_user=None) -> FaqEntry:
    entry = FaqEntry.objects.select_for_update().get(pk=entry_id)
    if entry.status != FaqEntry.Status.PUBLISHED:
        if entry.status == FaqEntry.Status.ARCHIVED:  # back from the archive: another entry may ask it by now
            faq_entry_check_duplicate(question=entry.question, exclude_id=entry.pk)
        faq_entry_check_public(question=entry.question, answer=entry.answer)
        entry.status = FaqEntry.Status.PUBLISHED
        entry.published_at = timezone.now()
        _save_refusing_duplicate(entry, update_fields=["status", "published_at", "updated_at"])
        audit_log_write(event_type="faq.published", payload={}, acting_user=acting_user, obj=entry)
        enqueue(TaskName.REBUILD_FAQ_PAGE)
    return entry


# What the shop's FAQ page shows of an entry: a change to one of these on a published entry rebuilds it.
PAGE_FIELDS = ("question", "answer", "position")


@transaction.atomic
def faq_entry_edit(*, entry_id: int, question: str, answer: str, source_intent: str, position: int,
                   acting_user=None) -> FaqEntry:
    """Change an entry's text or place. A published entry's page is rebuilt, so the shop never keeps
    showing the answer Ops just corrected."""
    entry = FaqEntry.objects.select_for_update().get(pk=entry_id)
    wanted = {"question": question.strip(), "answer": answer.strip(), "source_intent": source_intent,
              "position": position}
    changed = [name for name, value in wanted.items() if getattr(entry, name) != value]
    if not changed:
        return entry
    if "question" in changed and entry.status != FaqEntry.Status.ARCHIVED:
        faq_entry_check_duplicate(question=wanted["question"], exclude_id=entry.pk)
    if entry.status == FaqEntry.Status.PUBLISHED and {"question", "answer"} & set(changed):
        faq_entry_check_public(question=wanted["question"], answer=wanted["answer"])
    for name in changed:
        setattr(entry, name, wanted[name])
    entry.full_clean()
    _save_refusing_duplicate(entry, update_fields=[*changed, "updated_at"])
    audit_log_write(event_type="faq.edited", payload={"fields": changed}, acting_user=acting_user, obj=entry)
    if entry.status == FaqEntry.Status.PUBLISHED and set(changed) & set(PAGE_FIELDS):
        enqueue(TaskName.REBUILD_FAQ_PAGE)
    return entry


@transaction.atomic
def faq_entry_unpublish(*, entry_id: int, status: str = FaqEntry.Status.ARCHIVED, acting_user=None) -> FaqEntry:
    """Take a published entry off the shop's page (back to draft, or archived); the page is rebuilt."""
    if status not in (FaqEntry.Status.DRAFT, FaqEntry.Status.ARCHIVED):
        raise ApplicationError(f"status {status!r}: an entry is unpublished to 'draft' or 'archived'")
    entry = FaqEntry.objects.select_for_update().get(pk=entry_id)
    was_published = entry.status == FaqEntry.Status.PUBLISHED
    if entry.status != status:
        if entry.status == FaqEntry.Status.ARCHIVED:  # back from the archive: another entry may ask it by now
            faq_entry_check_duplicate(question=entry.question, exclude_id=entry.pk)
        entry.status = status
        entry.published_at = None
        _save_refusing_duplicate(entry, update_fields=["status", "published_at", "updated_at"])
        audit_log_write(event_type="faq.unpublished" if was_published else f"faq.{status}", payload={"status": status},
                        acting_user=acting_user, obj=entry)
        if was_published:
            enqueue(TaskName.REBUILD_FAQ_PAGE)
    return entry


def correction_check_text(*, pattern: str, answer: str) -> None:
    """Refuse a correction that holds a customer's facts (an email, a phone, an order or tracking number,
    an address, a name we hold): its answer is put into every matching customer's draft, so one
    customer's facts would reach the others. Corrections are about the shop, never about one customer."""
    found = pii_found(f"{pattern}\n\n{answer}", known=customers_known_facts())
    if found:
        raise ApplicationError(f"This correction holds customer data ({', '.join(found)}); its answer goes into "
                               "every matching customer's draft. Write it about the shop, not one customer.",
                               extra={"found": found})


@transaction.atomic
def correction_upsert(*, key: str, pattern: str, answer: str, sources: list | None = None, last_verified=None,
                      is_active: bool = True, acting_user=None, scrubbing: bool = False) -> tuple[Correction, str]:
    """Create or change a correction by key; a real change re-drafts the pending drafts it touches.
    Text holding a customer's facts is refused (`correction_check_text`), except with `scrubbing`: an
    erasure replacing one customer's words, which only ever takes facts out."""
    if not scrubbing:
        correction_check_text(pattern=pattern, answer=answer)
    write = {"key": key, "pattern": pattern, "answer": answer, "sources": sources, "last_verified": last_verified,
             "is_active": is_active, "acting_user": acting_user}
    try:
        with transaction.atomic():  # a savepoint: losing the race below leaves the transaction usable
            return _correction_write(**write)
    except IntegrityError:
        # Two requests creating one key (a double-clicked "Accept"): neither saw the other's new row, and the
        # key's unique index refused the second. It is now an update of the row the first one made.
        if not Correction.objects.filter(key=key).exists():
            raise
        return _correction_write(**write)


def _correction_write(*, key: str, pattern: str, answer: str, sources: list | None, last_verified, is_active: bool,
                      acting_user) -> tuple[Correction, str]:
    correction = Correction.objects.select_for_update().filter(key=key).first()
    outcome = "created" if correction is None else "updated"
    correction = correction or Correction(key=key)
    before = (correction.pattern, correction.answer, correction.is_active)
    correction.pattern = pattern.strip()
    correction.answer = answer.strip()
    correction.sources = sources or []
    correction.last_verified = last_verified
    correction.is_active = is_active
    correction.full_clean(validate_unique=False)  # the key was just looked up; a racing insert meets the index
    if outcome == "updated" and before == (correction.pattern, correction.answer, correction.is_active):
        outcome = "unchanged"
    correction.save()
    if outcome != "unchanged":
        audit_log_write(event_type=f"correction.{outcome}", payload={"key": key}, acting_user=acting_user,
                        obj=correction)
        enqueue(TaskName.APPLY_CORRECTIONS, correction.pk)
    return correction, outcome


def correction_affected_messages(*, correction_id: int) -> list[int]:
    """Inbound messages answered by a pending draft whose text contains the correction's pattern."""
    correction = Correction.objects.filter(pk=correction_id).first()
    if correction is None or not correction.pattern.strip():
        return []
    pattern = correction.pattern.strip()
    drafts = (Draft.objects.filter(status=Draft.Status.PENDING, reply_to__isnull=False)
              .filter(models.Q(reply_to__body__icontains=pattern) | models.Q(reply_to__subject__icontains=pattern))
              .values_list("reply_to_id", flat=True))
    return sorted(set(drafts))


@transaction.atomic
def correction_delete(*, correction_id: int, acting_user=None) -> None:
    """Remove a correction; the pending drafts that said it are drafted again without it."""
    correction = Correction.objects.select_for_update().get(pk=correction_id)
    message_ids = sorted(set(Draft.objects.filter(status=Draft.Status.PENDING, corrections_applied=correction,
                                                  reply_to__isnull=False).values_list("reply_to_id", flat=True)))
    audit_log_write(event_type="correction.deleted", acting_user=acting_user, obj=correction,
                    payload={"key": correction.key, "pattern": correction.pattern, "redrafted_messages": message_ids})
    correction.delete()
    for message_id in message_ids:
        enqueue(TaskName.GENERATE_DRAFT, message_id, refresh=True)


@transaction.atomic
def faq_entry_delete(*, entry_id: int, acting_user=None) -> None:
    """Delete an entry; if it was on the shop's page, the page is rebuilt without it."""
    entry = FaqEntry.objects.select_for_update().get(pk=entry_id)
    was_published = entry.status == FaqEntry.Status.PUBLISHED
    audit_log_write(event_type="faq.deleted", acting_user=acting_user, obj=entry,
                    payload={"status": entry.status, "question": entry.question[:200]})
    entry.delete()
    if was_published:
        enqueue(TaskName.REBUILD_FAQ_PAGE)


def correction_candidate_accept(*, removed: str, added: str, min_count: int = 2, acting_user=None) -> Correction:
    """Ops accept a correction candidate in one click: its text is read again from the approvals (never
    taken from the request), and it becomes a correction through `correction_upsert` (audit row, pending
    drafts it touches drafted again; `manage.py corrections --export` mirrors it to YAML)."""
    candidate = correction_candidate_find(removed=removed, added=added, min_count=min_count)
    if candidate is None:
        raise ApplicationError("This edit is no longer a candidate: a correction covers it now, or its approvals "
                               "changed. Reload the candidates.")
    if not candidate.added:
        raise ApplicationError("Agents only removed words here: a correction says something, so write its answer "
                               "with \"Create correction\".")
    if not candidate.suggested_pattern:
        raise ApplicationError("The customers' messages behind this edit share no word to match on: use "
                               "\"Create correction\" and write a pattern.")
    correction, _ = correction_upsert(key=candidate.suggested_key, pattern=candidate.suggested_pattern,
                                      answer=candidate.example_line, acting_user=acting_user)
    return correction


@transaction.atomic
def faq_publication_record(*, status: str, shopify_page_id: str, content_sha256: str, blob_key: str,
                           entries_count: int, integration: str = "shopify") -> FaqPublication:
    """The shop's FAQ page was created or updated (`status`) with this content: the record the next
    rebuild compares against, with its audit row. Written by the publisher after the shop answered."""
    publication = FaqPublication.objects.create(shopify_page_id=shopify_page_id, content_sha256=content_sha256,
                                                blob_key=blob_key, entries_count=entries_count)
    audit_log_write(event_type=f"faq.page_{status}", payload={"page_id": shopify_page_id, "entries": entries_count},
                    integration=integration, obj=publication)
    return publication
