"""An archived FAQ entry is off the shop's page, so it may ask what a current entry asks (an old answer kept
for reference, or one of the duplicates the unique-question migration archived). Ops can still open it and
save it; bringing it back is what is refused while the other entry asks its question."""

from __future__ import annotations

import pytest

from faq.models import FaqEntry
from faq.services import faq_entry_create, faq_entry_unpublish
from tests.builders import logged_in_client

pytestmark = pytest.mark.django_db


def _save(client, entry, *, status: str, answer: str):
    return client.post(f"/admin/faq/faqentry/{entry.pk}/change/", {
        "question": entry.question, "answer": answer, "status": status, "source_intent": "", "position": 0})


def test_ops_edit_an_archived_entry_that_shares_a_question_but_cannot_bring_it_back():
    old = faq_entry_create(question="Do you ship to Sweden?", answer="Not any more.")
    faq_entry_unpublish(entry_id=old.pk, status=FaqEntry.Status.ARCHIVED)
    current = faq_entry_create(question="Do you ship to Sweden ?", answer="Yes, since March.")
    client = logged_in_client("Ops", "olivia")

    assert _save(client, old, status="archived", answer="Not from 2025 to March 2026.").status_code == 302
    old.refresh_from_db()
    assert old.answer == "Not from 2025 to March 2026." and old.status == FaqEntry.Status.ARCHIVED

    response = _save(client, old, status="draft", answer=old.answer)
    assert response.status_code == 200
    assert f"FAQ entry {current.pk}: “Do you ship to Sweden ?”" in response.content.decode()
    old.refresh_from_db()
    assert old.status == FaqEntry.Status.ARCHIVED
