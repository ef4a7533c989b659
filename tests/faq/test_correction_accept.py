"""Ops accept a correction candidate in one click, and see how many past drafts it would have changed."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from conversations.services.approvals import draft_edit_and_approve
from faq.correction_candidates import correction_candidates, drafts_it_would_change, drafts_it_would_change_each
from faq.models import Correction
from omnichannel.models import AuditLog
from tests.builders import make_draft, make_inbound_message, make_staff

pytestmark = pytest.mark.django_db

DRAFT = "Hi {name},\n\nI am checking this with our team and will get back to you shortly.\n\nHappy trails,\nThe team"
POINTS = "Every 1.00 USD you spend earns 1 loyalty point; 100 points take 5.00 USD off a later purchase."


def _history() -> dict[str, list[int]]:
    """Three loyalty questions an agent answered with the same pasted line, one pending draft that would say
    it now, and one past draft that already said it (not counted)."""
    agent = make_staff("Agents", username="pasting-agent")
    ids: dict[str, list[int]] = {"edited": [], "would_change": []}
    # Addresses without the topic word: a word of the sender's address is never the suggested pattern.
    for n, question in enumerate(
        ["Do I earn loyalty points?", "How do loyalty points work?", "Can I get points when I buy boots?"]
    ):
        message = make_inbound_message(email=f"member{n}@example.org", subject="Points", body=question)
        draft = make_draft(body=DRAFT.format(name=f"Customer {n}"), message=message, intent="general")
        final = DRAFT.format(name=f"Customer {n}").replace(
            "I am checking this with our team and will get back to you shortly.", POINTS
        )
        ids["edited"].append(draft_edit_and_approve(draft_id=draft.pk, final_text=final, acting_user=agent).pk)
        ids["would_change"].append(draft.pk)  # the assistant's draft did not say it: a correction would have
    pending = make_draft(
        body=DRAFT.format(name="Pat"),
        intent="general",
        message=make_inbound_message(email="pat@example.org", subject="Loyalty", body="Do my points expire?"),
    )
    ids["would_change"].append(pending.pk)
    make_draft(
        body=DRAFT.format(name="Sam").replace("I am checking", f"{POINTS} I am checking"),
        intent="general",
        message=make_inbound_message(email="sam@example.org", subject="Points", body="Points?"),
    )
    make_draft(
        body=DRAFT.format(name="Lou"),
        intent="general",
        message=make_inbound_message(email="lou@example.org", subject="Checkpoints", body="Is the checkpoint open?"),
    )  # a word inside another
    return ids


def test_the_candidate_says_which_past_drafts_it_would_have_changed():
    ids = _history()
    [candidate] = correction_candidates(min_count=3)
    assert candidate.suggested_pattern == "points" and candidate.count == 3
    assert sorted(drafts_it_would_change(candidate)) == sorted(ids["would_change"])


REFUNDS = "Refunds reach your card within 5 business days of the parcel arriving at our warehouse."


def _refund_history() -> list[int]:
    """A second edit agents keep making (refund questions), and refund drafts newer than every points one."""
    agent = make_staff("Agents", username="refund-agent")
    drafts = []
    for n, question in enumerate(["When will my refund arrive?", "Is my refund on its way?",
                                  "I still have no refund for the boots I sent back"]):
        message = make_inbound_message(email=f"returner{n}@example.org", subject="Boots", body=question)
        draft = make_draft(body=DRAFT.format(name=f"Returner {n}"), message=message, intent="general")
        final = DRAFT.format(name=f"Returner {n}").replace(
            "I am checking this with our team and will get back to you shortly.", REFUNDS)
        draft_edit_and_approve(draft_id=draft.pk, final_text=final, acting_user=agent)
        drafts.append(draft.pk)
    return drafts


def test_the_drafts_every_candidate_would_change_are_found_in_one_query(django_assert_num_queries):
    points = _history()
    refunds = _refund_history()
    candidates = correction_candidates(min_count=3)
    assert {c.suggested_pattern for c in candidates} == {"points", "refund"}
    one_by_one = [drafts_it_would_change(c) for c in candidates]
    with django_assert_num_queries(1):
        each = drafts_it_would_change_each(candidates)
    assert each == one_by_one
    assert sorted(each[[c.suggested_pattern for c in candidates].index("points")]) == sorted(points["would_change"])
    # Each candidate reads its own newest `scan` drafts: the refund drafts, all newer, do not use up the points
    # one's (its newest three: Lou's "Checkpoints", Sam's that says it already, and Pat's pending one).
    with django_assert_num_queries(1):
        newest = dict(zip([c.suggested_pattern for c in candidates], drafts_it_would_change_each(candidates, scan=3),
                          strict=True))
    assert newest == {"points": [points["would_change"][-1]], "refund": refunds[::-1]}
    with django_assert_num_queries(0):
        assert drafts_it_would_change_each([]) == []


def test_ops_accept_a_candidate_in_one_click_and_it_becomes_a_correction_through_the_service(client):
    ids = _history()
    ops = make_staff("Ops", username="ops-accepting")
    client.force_login(ops)
    page = lxml_html.fromstring(client.get("/admin/faq/correction/candidates/").content)
    [row] = page.xpath("//table[@id='candidates']/tbody/tr")
    assert (
        row.xpath(".//td[contains(@class, 'would-change')]")[0]
        .text_content()
        .strip()
        .startswith(str(len(ids["would_change"])))
    )
    form = row.xpath(".//form[contains(@class, 'accept-form')]")[0]
    fields = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}

    response = client.post(form.get("action"), fields)
    assert response.status_code == 302
    correction = Correction.objects.get()
    assert (correction.pattern, correction.answer, correction.is_active) == ("points", POINTS, True)
    audit = AuditLog.objects.get(event_type="correction.created")
    assert audit.actor_user == ops and audit.object_id == str(correction.pk)
    # The correction covers the edit now: it is no longer a candidate, and a second click changes nothing.
    assert "no-candidates" in client.get("/admin/faq/correction/candidates/").content.decode()
    client.post(form.get("action"), fields)
    assert Correction.objects.count() == 1


def test_the_text_is_read_from_the_approvals_never_from_the_request(client):
    _history()
    client.force_login(make_staff("Ops", username="ops-forging"))
    response = client.post(
        "/admin/faq/correction/candidates/accept/",
        {"removed": "anything", "added": "we give everything away for free", "min_count": "2"},
        follow=True,
    )
    assert "no longer a candidate" in response.content.decode()
    assert not Correction.objects.exists()


def test_agents_cannot_accept_a_candidate(client):
    _history()
    client.force_login(make_staff("Agents", username="agent-accepting"))
    assert client.post("/admin/faq/correction/candidates/accept/", {"removed": "", "added": ""}).status_code == 403
    assert not Correction.objects.exists()


def test_a_removal_alone_is_not_accepted_in_one_click(client):
    agent = make_staff("Agents", username="trimming-agent")
    for n in range(3):
        message = make_inbound_message(email=f"trim{n}@example.org", subject="Tent", body="Is the tent waterproof?")
        body = DRAFT.format(name=f"Customer {n}").replace("shortly.", "shortly.\n\nWe love tents!")
        draft = make_draft(body=body, message=message, intent="general")
        draft_edit_and_approve(draft_id=draft.pk, final_text=body.replace("\n\nWe love tents!", ""), acting_user=agent)
    [candidate] = correction_candidates(min_count=3)
    assert (candidate.removed, candidate.added, candidate.suggested_pattern) == ("we love tents", "", "waterproof")
    client.force_login(make_staff("Ops", username="ops-trimming"))
    page = lxml_html.fromstring(client.get("/admin/faq/correction/candidates/").content)
    assert not page.xpath("//form[contains(@class, 'accept-form')]")  # "Create correction" only
    response = client.post(
        "/admin/faq/correction/candidates/accept/",
        {"removed": candidate.removed, "added": "", "min_count": "3"},
        follow=True,
    )
    assert "only removed words" in response.content.decode() and not Correction.objects.exists()
