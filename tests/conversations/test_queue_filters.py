"""The queue's filters, on drafts the real drafter wrote (inline), as a team uses them.

A German speaker on the team takes the German emails; a lead takes what needs a person; someone
clears the auto-replies and bounces in the "Awaiting reply" view.
"""

from __future__ import annotations

import re

import pytest

from conversations.models import Draft
from tests.builders import make_inbound_message, make_staff

pytestmark = pytest.mark.django_db

QUEUE = "/admin/conversations/draft/?status__exact=pending"
EMAILS = {
    "hans": ("hans@example.de", "Wo ist meine Bestellung?", "Hallo, wo ist meine Bestellung #1001? Danke, Hans"),
    "bulk": ("bulk@example.com", "Wholesale", "Hi, do you sell wholesale? We want 200 tents for our club."),
    "ines": ("ines@example.es", "Tienda", "Hola, ¿tienen la tienda de campaña en stock?"),
    "gio": ("gio@example.it", "Ordine", "Ciao, dov'è il mio ordine? Grazie mille, Giovanni"),
    "sam": ("sam@example.org", "Do you sell kayaks?", "Hey! Do you sell inflatable kayaks? I'd love one for next summer."),
}


@pytest.fixture
def drafted(django_capture_on_commit_callbacks):
    """Each email drafted by the real (grounded) drafter, as ingest sets it off after commit."""
    drafts = {}
    for name, (email, subject, body) in EMAILS.items():
        with django_capture_on_commit_callbacks(execute=True):
            message = make_inbound_message(email=email, subject=subject, body=body)
        drafts[name] = Draft.objects.get(reply_to=message, status=Draft.Status.PENDING)
    return drafts


@pytest.fixture
def agent(client):
    client.force_login(make_staff("Agents", "grace"))
    return client


def _listed(client, url: str) -> set[int]:
    response = client.get(url)
    assert response.status_code == 200
    return {int(pk) for pk in re.findall(r"/admin/conversations/draft/(\d+)/change/", response.content.decode())}


def test_language_filter_lists_only_that_language_and_other_takes_what_we_do_not_reply_in(agent, drafted):
    assert _listed(agent, f"{QUEUE}&lang=de") == {drafted["hans"].pk}
    assert _listed(agent, f"{QUEUE}&lang=es") == {drafted["ines"].pk}
    assert _listed(agent, f"{QUEUE}&lang=other") == {drafted["gio"].pk}  # Italian: replied to in English
    assert _listed(agent, f"{QUEUE}&lang=en") == {drafted["bulk"].pk, drafted["sam"].pk}
    assert _listed(agent, f"{QUEUE}&lang=xx") == {d.pk for d in drafted.values()}  # an unknown code filters nothing


def test_needs_a_person_filter_by_any_reason_none_or_one_topic(agent, drafted):
    everyone = {d.pk for d in drafted.values()}
    assert _listed(agent, f"{QUEUE}&person=any") == everyone - {drafted["sam"].pk}
    assert _listed(agent, f"{QUEUE}&person=none") == {drafted["sam"].pk}  # the kayak question was answered
    assert _listed(agent, f"{QUEUE}&person=wholesale") == {drafted["bulk"].pk}
    assert _listed(agent, f"{QUEUE}&person=order+status") == {drafted["hans"].pk, drafted["gio"].pk}


def test_filters_combine_and_the_choices_are_on_the_page(agent, drafted):
    assert _listed(agent, f"{QUEUE}&person=order+status&lang=de") == {drafted["hans"].pk}
    body = agent.get(QUEUE).content.decode()
    for choice in ("Something needs a person", "Everything answered", "German", "Other (replied in English)"):
        assert choice in body
    assert "Show counts" not in body  # counting every filter choice over the queue on each view


def test_a_draft_the_agent_wrote_matches_no_reason_and_no_language(agent, drafted):
    from conversations.services.approvals import draft_reject, draft_write_own

    user = make_staff("Agents", "linus")
    draft_reject(draft_id=drafted["sam"].pk, reason="We do not sell kayaks", acting_user=user)
    own = draft_write_own(draft_id=drafted["sam"].pk, text="Sorry Sam, no kayaks.", acting_user=user).draft
    approved = "/admin/conversations/draft/?status__exact=approved"
    assert _listed(agent, approved) == {own.pk}
    assert _listed(agent, f"{approved}&person=none") == set()
    assert _listed(agent, f"{approved}&lang=en") == set()


def test_the_awaiting_reply_view_filters_by_the_triage_label_the_customer_waits_on(
    agent, django_capture_on_commit_callbacks
):
    from conversations.services.approvals import draft_reject

    user = make_staff("Agents", "linus")
    with django_capture_on_commit_callbacks(execute=True):
        ooo = make_inbound_message(
            email="away@example.com",
            subject="Automatic reply: Out of office",
            body="I am out of the office until Monday with limited access to email.",
        )
        customer = make_inbound_message(email="ada@example.com", body="Hi, where is my order #1001?")
    ooo.refresh_from_db()
    assert ooo.triage_label == "auto_reply"
    # The customer's draft was rejected: she waits on us too, with no draft in the queue.
    draft_reject(draft_id=Draft.objects.get(reply_to=customer).pk, reason="Wrong order", acting_user=user)
    awaiting = "/admin/conversations/conversation/?awaiting=reply"

    def listed(url):
        response = agent.get(url)
        assert response.status_code == 200
        return {int(pk) for pk in re.findall(r"/admin/conversations/conversation/(\d+)/change/", response.content.decode())}

    assert listed(awaiting) == {ooo.conversation_id, customer.conversation_id}
    assert listed(f"{awaiting}&triage=auto_reply") == {ooo.conversation_id}
    assert listed(f"{awaiting}&triage=bounce") == set()
    assert "Auto-reply" in agent.get(awaiting).content.decode()  # the choice is offered


def test_status_all_lists_every_draft_not_only_the_pending_ones(agent, drafted):
    """The "All" link under "By status" lists every draft: the bare queue URL opens on the pending ones."""
    rejected = drafted["bulk"]
    Draft.objects.filter(pk=rejected.pk).update(status=Draft.Status.REJECTED)
    assert rejected.pk not in _listed(agent, QUEUE)

    page = agent.get(QUEUE).content.decode()
    status_filter = page[page.index('data-filter-title="status"'):]
    all_link = re.search(r'<a href="([^"]*)"[^>]*>All</a>', status_filter).group(1)
    all_url = "/admin/conversations/draft/" + all_link.replace("&amp;", "&")
    response = agent.get(all_url)
    assert response.status_code == 200  # not sent back to the pending drafts
    assert _listed(agent, all_url) == {d.pk for d in drafted.values()}
    assert _listed(agent, f"{QUEUE.split('?')[0]}?status__exact=rejected") == {rejected.pk}
