"""Ops' review page per FAQ proposal (issue "The loop that learns", item 2): the question, the suggested
answer (editable), the replies behind it linking to their conversations, approve-and-publish or
dismiss; every decision through faq/services_proposals.py."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from lxml import html as lxml_html

from conversations.services.approvals import draft_approve, draft_edit_and_approve
from faq.models import FaqEntry, FaqProposal
from faq.services_proposals import faq_proposals_refresh
from omnichannel.models import AuditLog
from tests.builders import make_draft, make_inbound_message
from tests.integrations.shopify.conftest import fake_shop  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

PARCEL_REPLY = ("Hi Alan,\n\nYour parcel for order #1004 left with USPS, tracking number 9400111899223197428490. "
                "Parcels arrive in 3-5 business days.\n\nBest regards,\nThe support team")


def _user(name: str, group: str, *, publish: bool = True):
    user = get_user_model().objects.create_user(username=name, password="pw", is_staff=True)
    if publish:
        user.groups.add(Group.objects.get(name=group))
    else:  # Ops without the one permission that publishes
        editors, _ = Group.objects.get_or_create(name="ops-without-publish")
        editors.permissions.set(Group.objects.get(name=group).permissions.all())
        editors.permissions.remove(Permission.objects.get(codename="publish_faqentry"))
        user.groups.add(editors)
    return get_user_model().objects.get(pk=user.pk)


def _proposal(replies: int = 2) -> FaqProposal:
    agent = get_user_model().objects.create_user(username=f"agent-{replies}")
    for n in range(replies):
        draft = make_draft(intent="order_status", body="x", message=make_inbound_message(
            email=f"parcel{n}@example.com", subject="Parcel", body="Where is my parcel? It has not arrived yet."))
        if n == 0:
            draft_edit_and_approve(draft_id=draft.pk, acting_user=agent, final_text=PARCEL_REPLY)
        else:
            draft_approve(draft_id=draft.pk, acting_user=agent)
    faq_proposals_refresh()
    return FaqProposal.objects.get()


def _page(client, proposal):
    response = client.get(f"/admin/faq/faqproposal/{proposal.pk}/change/")
    assert response.status_code == 200
    return lxml_html.fromstring(response.content)


def test_the_review_page_shows_the_question_the_answer_and_each_reply_linking_to_its_conversation(client):
    proposal = _proposal()
    client.force_login(_user("ops", "Ops"))
    page = _page(client, proposal)
    assert page.xpath("//input[@name='question']/@value") == [proposal.question]
    assert "[tracking number]" in page.xpath("string(//textarea[@name='answer'])")
    assert "9400111899223197428490" not in page.xpath("string(//textarea[@name='answer'])")
    links = page.xpath("//table[@id='observations']//a[contains(@href, '/conversations/conversation/')]/@href")
    conversations = proposal.observations.values_list("conversation_id", flat=True)
    assert sorted(links) == sorted(f"/admin/conversations/conversation/{c}/change/" for c in conversations)
    assert page.xpath("//button[@id='publish']") and page.xpath("//button[@id='dismiss']")
    assert "placeholders" in page.xpath("string(//p[@id='placeholders'])")
    assert "Asked 2 times (1 reply edited" in " ".join(page.xpath("string(//p[@id='proposal-counts'])").split())


def test_the_review_page_runs_the_same_queries_for_2_and_12_replies(client):
    small = _proposal(2)
    client.force_login(_user("ops", "Ops"))
    _page(client, small)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as few:
        _page(client, small)
    FaqProposal.objects.all().delete()
    large = _proposal(12)
    _page(client, large)  # the new rows invalidated the permission cache: warm it again
    with CaptureQueriesContext(connection) as many:
        _page(client, large)
    assert len(many) == len(few)


def test_approve_and_publish_publishes_the_edited_text_and_rebuilds_the_shop_page(
        client, fake_shop, django_capture_on_commit_callbacks):  # noqa: F811
    proposal = _proposal()
    ops = _user("ops", "Ops")
    client.force_login(ops)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/faq/faqproposal/{proposal.pk}/decide/", {
            "question": "Where is my parcel?", "answer": "Parcels arrive in 3-5 business days; the tracking link "
            "is in your shipping email.", "reason": "", "_publish": "1"})
    assert response.status_code == 302
    proposal.refresh_from_db()
    entry = FaqEntry.objects.get()
    assert proposal.status == "published" and proposal.faq_entry == entry and entry.status == "published"
    assert entry.question == "Where is my parcel?" and proposal.edited_by_ops
    assert "the tracking link is in your shipping email" in fake_shop.resources["pages"][0]["body_html"]
    assert client.get("/faq/").content.decode().count("Where is my parcel?") == 1
    published = AuditLog.objects.get(event_type="faq_proposal.published")
    assert published.actor_user_id == ops.pk and published.object_id == str(proposal.pk)


def test_publishing_text_with_placeholders_is_refused_on_the_page_and_nothing_changes(client, fake_shop):  # noqa: F811
    proposal = _proposal()
    client.force_login(_user("ops", "Ops"))
    response = client.post(f"/admin/faq/faqproposal/{proposal.pk}/decide/", {
        "question": proposal.question, "answer": proposal.answer + " Extra line.", "reason": "", "_publish": "1"})
    assert response.status_code == 400
    page = lxml_html.fromstring(response.content)
    assert "placeholders" in page.xpath("string(//div[@id='decision-error'])")
    assert page.xpath("string(//textarea[@name='answer'])").endswith("Extra line.")  # Ops' text is kept on the page
    proposal.refresh_from_db()
    assert proposal.status == "proposed" and not proposal.answer.endswith("Extra line.")
    assert not FaqEntry.objects.exists() and fake_shop.resources.get("pages", []) == []


def test_dismiss_needs_a_reason_and_then_the_page_says_why(client):
    proposal = _proposal()
    client.force_login(_user("ops", "Ops"))
    fields = {"question": proposal.question, "answer": proposal.answer, "_dismiss": "1"}
    refused = client.post(f"/admin/faq/faqproposal/{proposal.pk}/decide/", {**fields, "reason": ""})
    assert refused.status_code == 400 and "Say why" in refused.content.decode()
    done = client.post(f"/admin/faq/faqproposal/{proposal.pk}/decide/", {**fields, "reason": "One customer's case."})
    assert done.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == "dismissed" and proposal.dismissed_reason == "One customer's case."
    page = _page(client, proposal)
    assert "One customer's case." in page.xpath("string(//p[@id='dismissed-reason'])")
    assert not page.xpath("//button[@id='publish']")  # nothing left to decide until it comes back


def test_without_the_publish_permission_there_is_no_publish_button_and_a_forged_post_is_refused(client):
    proposal = _proposal()
    client.force_login(_user("editor", "Ops", publish=False))
    page = _page(client, proposal)
    assert not page.xpath("//button[@id='publish']") and page.xpath("//button[@id='approve']")
    forged = client.post(f"/admin/faq/faqproposal/{proposal.pk}/decide/", {
        "question": "Where is my parcel?", "answer": "In 3-5 days.", "reason": "", "_publish": "1"})
    assert forged.status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == "proposed"


def test_an_agent_reads_a_proposal_but_cannot_decide_or_refresh(client):
    proposal = _proposal()
    client.force_login(_user("agent-reader", "Agents"))
    page = _page(client, proposal)
    assert not page.xpath("//div[@id='decision']//button") and page.xpath("//p[@id='answer-text']")
    decide = client.post(f"/admin/faq/faqproposal/{proposal.pk}/decide/", {
        "question": "q?", "answer": "a", "reason": "", "_save": "1"})
    assert decide.status_code == 403
    assert client.post("/admin/faq/faqproposal/refresh/").status_code == 403


def test_refresh_now_places_new_replies_and_reports_them(client):
    ops = _user("ops", "Ops")
    agent = get_user_model().objects.create_user(username="a1")
    for n in range(2):
        draft = make_draft(intent="general", body="x", message=make_inbound_message(
            email=f"gift{n}@example.com", subject="Gift", body="Do you offer gift wrapping for presents?"))
        draft_approve(draft_id=draft.pk, acting_user=agent)
    client.force_login(ops)
    listing = client.get("/admin/faq/faqproposal/").content.decode()
    assert "Refresh proposals now" in listing
    response = client.post("/admin/faq/faqproposal/refresh/", follow=True)
    assert "1 new proposal(s), 2 replies placed" in response.content.decode()
    assert FaqProposal.objects.get().source_count == 2
    assert AuditLog.objects.get(event_type="faq_proposals.refreshed").actor_user_id == ops.pk
