"""FAQ publishing to the (fake) shop, idempotent, and corrections re-drafting what they touch."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from assistants.services import draft_generate
from assistants.vectorstore import FAQ, index_query
from conversations.models import Draft, Message
from faq.models import FaqEntry, FaqPublication
from faq.services import correction_upsert, faq_entry_create, faq_entry_publish
from integrations.demo import seed_demo
from tests.integrations.shopify.conftest import fake_shop  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def test_publishing_creates_the_page_once_then_updates_it_and_skips_unchanged(fake_shop, capsys):  # noqa: F811
    seed_demo()
    call_command("publish_faq")
    page = fake_shop.resources["pages"][0]
    assert "How long does shipping take?" in page["body_html"] and page["title"] == "Frequently asked questions"
    calls = len(fake_shop.requests)
    call_command("publish_faq")
    assert len(fake_shop.requests) == calls  # nothing changed: no Shopify call
    assert "unchanged" in capsys.readouterr().out
    entry = faq_entry_create(question="Do you offer gift cards?", answer="Yes, from 10 to 200 dollars.")
    faq_entry_publish(entry_id=entry.pk)
    call_command("publish_faq")
    assert len(fake_shop.resources["pages"]) == 1  # updated in place, not a second page
    assert "Do you offer gift cards?" in fake_shop.resources["pages"][0]["body_html"]
    assert FaqPublication.objects.count() == 2
    hits = index_query(FAQ, "can I buy a gift card?", n=1)
    assert hits and hits[0].metadata["faq_id"] == entry.pk


def test_the_faq_page_is_served_at_faq(client):
    FaqEntry.objects.create(question="Where are you based?", answer="Manchester.", status="published",
                            published_at="2026-11-01T00:00:00Z")
    body = client.get("/faq/").content.decode()
    assert "Where are you based?" in body and "Manchester." in body


def test_a_new_correction_redrafts_the_pending_drafts_it_touches(django_capture_on_commit_callbacks):
    seed_demo()
    tent = Message.objects.get(subject="Where is my tent?")
    kayak = Message.objects.get(subject="Do you sell kayaks?")
    first_tent = draft_generate(message_id=tent.pk).draft
    first_kayak = draft_generate(message_id=kayak.pk).draft
    with django_capture_on_commit_callbacks(execute=True):
        correction_upsert(key="kayak-partner", pattern="kayak",
                          answer="We partner with Sea Eagle for kayaks: ask us for a 10% code.")
    first_tent.refresh_from_db()
    first_kayak.refresh_from_db()
    assert first_tent.status == Draft.Status.PENDING  # untouched
    assert first_kayak.status == Draft.Status.SUPERSEDED
    new = Draft.objects.get(reply_to=kayak, status=Draft.Status.PENDING)
    assert "Sea Eagle" in new.body and new.corrections_applied.filter(key="kayak-partner").exists()


def test_corrections_yaml_round_trip(tmp_path):
    from faq.models import Correction

    path = tmp_path / "corrections.yaml"
    path.write_text("- key: gift-cards\n  pattern: gift card\n  answer: Gift cards never expire.\n"
                    "  sources: [ops note]\n  last_verified: 2026-11-01\n"
                    "- key: canada\n  pattern: canada\n  answer: We ship to Canada from January.\n")
    call_command("corrections", "--import", str(path))
    assert Correction.objects.get(key="gift-cards").last_verified.isoformat() == "2026-11-01"
    out = tmp_path / "out.yaml"
    call_command("corrections", "--export", str(out))
    assert "gift-cards" in out.read_text() and "We ship to Canada from January." in out.read_text()


@pytest.mark.parametrize("text,reason", [
    ("- key: a\n  pattern: x\n  answer: [unclosed\n", "line 3: not valid YAML"),
    ("- key: ok-one\n  pattern: x\n  answer: fine\n- key: bad\n  pattern: y\n", "line 4: 'answer' is required"),
    ("key: not-a-list\n", "line 1: the file must be a list"),
    ("- key: a\n  pattern: x\n  answer: y\n  last_verified: soon\n", "line 1: 'last_verified' must be a date"),
])
def test_a_malformed_corrections_file_is_refused_with_line_and_reason_and_nothing_imported(tmp_path, text, reason):
    from django.core.management import CommandError

    from faq.models import Correction

    path = tmp_path / "corrections.yaml"
    path.write_text(text)
    with pytest.raises(CommandError, match=reason):
        call_command("corrections", "--import", str(path))
    assert not Correction.objects.filter(key="ok-one").exists()
