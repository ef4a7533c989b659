"""Edits agents keep making become correction candidates for Ops, with exact counts."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from lxml import html as lxml_html

from conversations.services.approvals import draft_approve, draft_edit_and_approve, unified_diff
from faq.correction_candidates import correction_candidates, diff_replacements
from faq.services import correction_upsert
from tests.builders import make_draft, make_inbound_message

pytestmark = pytest.mark.django_db

LEAD = "Hi {name},\n\nThe usual lead time for a restock is 14 days.\n\nHappy trails,\nThe Demo Shop team"
SHIPPING = "Hi {name},\n\nWe ship with Royal Mail, usually in 3-5 days.\n\nHappy trails,\nThe Demo Shop team"


@pytest.fixture
def agent():
    user = get_user_model().objects.create_user(username="editing-agent", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Agents"))
    return user


def _edit(agent, n: int, subject: str, body: str, final: str | None = None):
    message = make_inbound_message(email=f"customer{n}@example.com", subject=subject, body=subject)
    draft = make_draft(body=body, message=message)
    if final is None:
        return draft_approve(draft_id=draft.pk, acting_user=agent)
    return draft_edit_and_approve(draft_id=draft.pk, final_text=final, acting_user=agent)


def _fixture(agent) -> dict[str, list[int]]:
    ids: dict[str, list[int]] = {"lead": [], "ps": [], "shipping": []}
    for n, (name, subject) in enumerate([("Ada", "Restock date for the boots?"), ("Grace", "Any restock news on the tent?"),
                                         ("Alan", "When is the jacket restock?")]):
        body = LEAD.format(name=name)
        if n == 2:  # the same change twice in one reply still counts once for that approval
            body = body.replace("Happy trails", "Again: the usual lead time for a restock is 14 days.\n\nHappy trails")
        ids["lead"].append(_edit(agent, n, subject, body, body.replace("14 days", "21 days")).pk)
    for n, name in enumerate(["Barbara", "Edsger"], start=10):
        body = LEAD.format(name=name).replace("restock is 14", "restock is 10")
        ids["ps"].append(_edit(agent, n, "Returns?", body, body + "\n\nP.S. Free returns within 30 days.").pk)
    for n, name in enumerate(["Ken", "Dennis", "Linus"], start=20):  # covered by the DPD correction below
        body = SHIPPING.format(name=name)
        ids["shipping"].append(_edit(agent, n, "Which courier?", body, body.replace("Royal Mail", "DPD")).pk)
    _edit(agent, 30, "One-off", LEAD.format(name="Tim"), LEAD.format(name="Tim").replace("Happy trails", "Cheers"))
    _edit(agent, 31, "Approved as drafted", LEAD.format(name="Vint"))  # an approval without an edit is not a pattern
    correction_upsert(key="courier", pattern="courier", answer="We ship every UK order with DPD, in 2-3 days.")
    correction_upsert(key="returns-old", pattern="returns", answer="P.S. Free returns within 30 days.", is_active=False)
    return ids


def test_a_word_changed_keeps_a_word_of_context_and_nearby_changes_merge():
    lead = diff_replacements(unified_diff(LEAD.format(name="Ada"), LEAD.format(name="Ada").replace("14", "21")))
    assert [(r.removed, r.added, r.added_core) for r in lead] == [("is 14 days", "is 21 days", "21")]
    shipping = diff_replacements(unified_diff("We ship with Royal Mail, usually in 3-5 days.",
                                              "We ship with DPD, usually in 5-7 business days."))
    assert [(r.removed, r.added) for r in shipping] == [("royal mail", "dpd"), ("3-5", "5-7 business")]
    assert diff_replacements(unified_diff("Hello,\nBest", "Hello,\nBest\n")) == []  # only a trailing newline


def test_repeated_edits_are_ranked_by_frequency_and_corrections_already_covering_them_are_left_out(agent):
    ids = _fixture(agent)
    candidates = correction_candidates(min_count=2)
    assert [(c.removed, c.added, c.count, sorted(c.approval_ids), c.suggested_pattern) for c in candidates] == [
        ("is 14 days", "is 21 days", 3, sorted(ids["lead"]), "restock"),
        ("", "p.s free returns within 30 days", 2, sorted(ids["ps"]), "returns"),  # the inactive correction does not count
    ]
    assert candidates[0].example_line == "The usual lead time for a restock is 21 days."
    assert candidates[0].suggested_key == "edit-is-21-days"
    assert [c.added for c in correction_candidates()] == ["is 21 days"]  # "several" means 3 by default


def test_ops_see_the_candidates_and_the_button_prefills_a_new_correction(client, agent):
    _fixture(agent)
    ops = get_user_model().objects.create_user(username="ops-user", password="pw", is_staff=True)
    ops.groups.add(Group.objects.get(name="Ops"))
    client.force_login(ops)
    listing = client.get("/admin/faq/correction/").content.decode()
    assert 'href="/admin/faq/correction/candidates/"' in listing

    page = lxml_html.fromstring(client.get("/admin/faq/correction/candidates/?min_count=2").content)
    rows = page.xpath("//table[@id='candidates']/tbody/tr")
    assert [[td.text_content().strip() for td in row.xpath("./td")[1:4]] for row in rows] == [
        ["is 14 days", "is 21 days", "3"], ["(nothing: added)", "p.s free returns within 30 days", "2"]]
    button = rows[0].xpath(".//a[contains(@class, 'create-correction')]")[0].get("href")
    assert parse_qs(urlparse(button).query) == {"key": ["edit-is-21-days"], "pattern": ["restock"],
                                               "answer": ["The usual lead time for a restock is 21 days."]}
    form = lxml_html.fromstring(client.get(button).content)
    assert form.xpath("//input[@name='key']/@value") == ["edit-is-21-days"]
    assert form.xpath("//textarea[@name='answer']")[0].text.strip() == "The usual lead time for a restock is 21 days."


def test_agents_cannot_open_the_candidates(client, agent):
    client.force_login(agent)
    assert client.get("/admin/faq/correction/candidates/").status_code == 403
