"""One customer's facts never become a correction (issue item 3).

A correction's answer is put into every draft whose customer's email matches its pattern. An agent
who edits Ada's draft to say "UPS 1Z… to 12 St James's Square, we'll ring +44…" three times makes a
"correction candidate"; before, the candidate page showed her facts and its button pre-filled them
into a new correction, which then reached every customer asking about a tent. Now candidates are
scrubbed, their suggested pattern is never the sender's name, and `correction_upsert` (admin form,
API, YAML import, demo seed) refuses text holding a customer's facts.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import CommandError, call_command
from lxml import html as lxml_html
from rest_framework.test import APIClient

from accounts.services import api_token_create
from conversations.services.approvals import draft_edit_and_approve
from customers.services import customer_get_or_create_lead
from faq.correction_candidates import correction_candidates
from faq.models import Correction
from faq.services import correction_upsert
from omnichannel.errors import ApplicationError
from omnichannel.models import AuditLog
from tests.builders import make_draft, make_inbound_message, make_staff

pytestmark = pytest.mark.django_db

KATHERINE = ("katherine.johnson@example.org", "Johnson", "7946 0101", "1Z999AA10123456784", "St James", "SW1Y")
DRAFT = "Hi Katherine,\n\nYour tent ships soon.\n\nHappy trails,\nThe Demo Shop team"
EDITED = DRAFT.replace("Your tent ships soon.", "Your tent left with UPS 1Z999AA10123456784 for 12 St James's Square, "
                       "London SW1Y 4LE; we will ring +44 20 7946 0101 or write to katherine.johnson@example.org.")


def leaks(text: str) -> list[str]:
    return [fact for fact in KATHERINE if fact.lower() in text.lower()]


@pytest.fixture
def katherine_edits():
    """Katherine asked three times; each time the agent put her tracking, address and phone in the reply."""
    customer_get_or_create_lead(email=KATHERINE[0], name="Katherine Johnson")
    agent = make_staff("Agents", "editing-agent")
    for n in range(3):
        message = make_inbound_message(email=KATHERINE[0], subject="Where is my tent?",
                                       body=f"Where is my tent? Katherine Johnson ({n})")
        draft = make_draft(body=DRAFT, message=message)
        draft_edit_and_approve(draft_id=draft.pk, final_text=EDITED, acting_user=agent)


def test_a_candidate_made_of_one_customers_facts_shows_and_prefills_none_of_them(client, katherine_edits):
    [candidate] = correction_candidates()
    assert candidate.count == 3
    assert leaks(f"{candidate.removed} {candidate.added} {candidate.example_line} {candidate.suggested_pattern} "
                 f"{candidate.suggested_key}") == []
    assert "[tracking number]" in candidate.added and "[phone number]" in candidate.example_line
    assert candidate.suggested_pattern == "tent"  # what the customers asked about, not who asked

    client.force_login(make_staff("Ops", "ops-user"))
    page = client.get("/admin/faq/correction/candidates/").content.decode()
    assert leaks(page) == [] and "[address]" in page
    button = lxml_html.fromstring(page).xpath("//a[contains(@class, 'create-correction')]")[0].get("href")
    assert leaks(" ".join(v for values in parse_qs(urlparse(button).query).values() for v in values)) == []


@pytest.mark.parametrize(("pattern", "answer", "kind"), [
    ("tent", "Tell katherine.johnson@example.org her tent is on its way.", "email"),
    ("tent", "Your tent left with UPS 1Z999AA10123456784.", "tracking number"),
    ("tent", "Ring us back on +44 20 7946 0101 about the tent.", "phone number"),
    ("tent", "Order #1042 is the one with the dented pole.", "order number"),
    ("tent", "It went to 12 St James's Square, London SW1Y 4LE.", "address"),
    ("tent", "Katherine Johnson already has the last one.", "name"),
    ("katherine.johnson@example.org", "Her tent is on its way.", "email"),
])
def test_a_correction_holding_a_customers_fact_is_refused_and_nothing_is_saved(pattern, answer, kind):
    customer_get_or_create_lead(email=KATHERINE[0], name="Katherine Johnson")
    with pytest.raises(ApplicationError, match="holds customer data") as refused:
        correction_upsert(key="tent-eta", pattern=pattern, answer=answer)
    assert kind in refused.value.extra["found"]
    assert not Correction.objects.exists() and not AuditLog.objects.filter(event_type__startswith="correction").exists()


def test_changing_a_correction_to_hold_a_customers_fact_is_refused_and_the_old_text_stays():
    correction_upsert(key="tent-eta", pattern="tent", answer="Tents ship within 2 days.")
    with pytest.raises(ApplicationError):
        correction_upsert(key="tent-eta", pattern="tent", answer="Tents ship within 2 days; yours is 1Z999AA10123456784.")
    assert Correction.objects.get(key="tent-eta").answer == "Tents ship within 2 days."


def test_ops_pasting_a_customers_facts_into_the_admin_form_get_an_error_and_nothing_is_saved(client):
    client.force_login(make_staff("Ops", "ops-user"))
    response = client.post("/admin/faq/correction/add/", {
        "key": "tent-eta", "pattern": "tent", "answer": "We will ring +44 20 7946 0101 when it ships.", "sources": "[]",
        "is_active": "on", "last_verified": ""})
    assert response.status_code == 200 and "holds customer data (phone number)" in response.content.decode()
    assert not Correction.objects.exists()


def test_ops_posting_a_customers_facts_to_the_api_get_a_400_naming_what_was_found():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=make_staff('Ops', 'api-ops'))[1]}")
    response = client.post("/api/corrections/", {"key": "tent-eta", "pattern": "tent", "answer": (
        "Tracking 1Z999AA10123456784, order #1042.")}, format="json")
    assert response.status_code == 400 and response.json()["found"] == ["order number", "tracking number"]
    assert not Correction.objects.exists()


def test_a_corrections_file_with_a_customers_fact_imports_nothing(tmp_path):
    path = tmp_path / "corrections.yaml"
    path.write_text("- {key: returns, pattern: return, answer: Returns are free within 30 days.}\n"
                    "- {key: tent-eta, pattern: tent, answer: 'Ask katherine.johnson@example.org first.'}\n")
    with pytest.raises(CommandError, match="correction 'tent-eta': This correction holds customer data"):
        call_command("corrections", "--import", str(path))
    assert not Correction.objects.exists()


def test_a_correction_about_the_shop_is_kept():
    correction, outcome = correction_upsert(key="tent-eta", pattern="tent", answer=(
        "The Basecamp 4-person tent (SKU TENT-4P) is back in 14 days; write to support@demo-shop.example."))
    assert outcome == "created" and correction.answer.endswith("support@demo-shop.example.")
