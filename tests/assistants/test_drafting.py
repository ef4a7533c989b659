"""Drafting end to end on Postgres: the demo shop's emails in, grounded drafts with sources out."""

from __future__ import annotations

import re

import pytest

from assistants.context import email_in
from assistants.indexing import approved_reply_index
from assistants.models import ModelRun, StyleProfile
from assistants.services import draft_compose, draft_generate
from conversations.models import Approval, Draft, Message
from conversations.services.approvals import draft_edit_and_approve
from customers.models import Order
from customers.selectors import customer_summary_refresh
from integrations.demo import seed_demo
from omnichannel.models import AuditLog
from tests.builders import make_inbound_message

pytestmark = pytest.mark.django_db


def _draft_for(subject_start: str):
    message = Message.objects.filter(subject__startswith=subject_start, direction="inbound").order_by("-sent_at").first()
    outcome = draft_generate(message_id=message.pk)
    return outcome


def test_an_order_question_gets_the_tracking_number_from_the_order_it_cites(demo_shop):
    outcome = _draft_for("Where is my tent?")
    draft = outcome.draft
    assert draft.intent == "order_status" and draft.status == Draft.Status.PENDING
    assert "1Z999AA10123456784" in draft.body and draft.body.startswith("Hi Ada,")
    run = ModelRun.objects.get(pk=draft.model_run_id)
    order_sources = [s for s in run.sources if s["kind"] == "order"]
    assert order_sources and order_sources[0]["facts"]["name"] == "#1001"
    assert run.evaluation["unsupported_facts"] == [] and run.status == ModelRun.Status.OK
    assert run.model_slug == "grounded-v2" and run.tokens_in > 0 and run.prompt_hash


def test_every_number_in_every_demo_draft_comes_from_a_listed_source(demo_shop):
    for message in Message.objects.filter(direction="inbound"):
        outcome = draft_generate(message_id=message.pk, refresh=True)
        if outcome is None:  # an older message of a thread: the thread's draft answers its newest message
            assert AuditLog.objects.get(event_type="draft.skipped", payload__message_id=message.pk).payload[
                "reason"] == "newer_inbound"
            continue
        evidence = str(outcome.model_run.sources) + message.subject + message.body + str(outcome.context.style)
        for token in re.findall(r"[\w-]*\d[\w.-]*", outcome.draft.body):
            assert token.strip(".-") in evidence, (message.subject, token)


def test_availability_answers_quantity_and_lead_time_and_adds_the_ops_correction(demo_shop):
    # Asked afresh: in the demo's own thread the customer wrote again, and its draft answers that newest message.
    message = make_inbound_message(
        email="edsger.dijkstra@example.com", subject="Is the 4-person tent available?",
        body="Good morning. Is the Basecamp 4-person tent available? If not, how long until it is?")
    draft = draft_generate(message_id=message.pk).draft
    assert draft.intent == "availability"
    assert "21 days" in draft.body  # lead time from the inventory item
    assert "back in stock in about three weeks" in draft.body  # the Ops correction
    assert draft.corrections_applied.filter(key="tent-4p-restock").exists()


def test_a_stranger_asking_about_an_order_gets_a_low_confidence_draft_that_asks_for_it(demo_shop):
    message = make_inbound_message(email="nobody@example.org", subject="Where is my order?",
                                   body="Hi, where is my order? It has not arrived.")
    outcome = draft_generate(message_id=message.pk)
    assert outcome.draft.confidence <= 0.35
    assert "order number" in outcome.draft.body
    assert not any(s["kind"] == "order" for s in outcome.model_run.sources)


def test_a_quoted_order_of_someone_else_is_not_disclosed(demo_shop):
    message = make_inbound_message(email="mallory@example.org", subject="Order #1001",
                                   body="Where is order #1001? Send me the tracking number.")
    body = draft_generate(message_id=message.pk).draft.body
    assert "1Z999AA10123456784" not in body


def test_a_huge_body_is_cut_to_the_budget_and_the_run_says_so(settings, demo_shop):
    settings.ASSISTANT_MAX_INPUT_CHARS = 500
    message = make_inbound_message(email="ada.lovelace@example.com", subject="Long story",
                                   body="Where is my order #1001? " + "blah " * 5000)
    outcome = draft_generate(message_id=message.pk)
    assert outcome.model_run.input_truncated is True
    assert outcome.draft.confidence <= 0.3


def test_an_html_only_email_is_read_as_text_without_its_script():
    email = email_in(from_address="x@example.com", subject="Hi",
                     body="", body_html="<p>Where is <b>my order</b>?</p><script>alert(1)</script>")
    assert email.body == "Where is my order?"


def test_an_empty_email_gets_a_low_confidence_general_draft(demo_shop):
    message = make_inbound_message(email="ada.lovelace@example.com", subject="", body="")
    outcome = draft_generate(message_id=message.pk)
    assert outcome.draft.confidence <= 0.3 and outcome.draft.intent == "general"


def test_a_message_with_a_pending_draft_is_not_drafted_twice_unless_refreshed(demo_shop):
    message = Message.objects.filter(subject__startswith="Where is my tent?").get()
    first = draft_generate(message_id=message.pk)
    assert draft_generate(message_id=message.pk) is None
    again = draft_generate(message_id=message.pk, refresh=True)
    first.draft.refresh_from_db()
    assert first.draft.status == Draft.Status.SUPERSEDED and again.draft.status == Draft.Status.PENDING


def test_banned_phrases_of_the_style_profile_never_reach_the_draft(demo_shop):
    profile = StyleProfile.objects.get(is_brand_default=True)
    profile.tone_config = {**profile.tone_config, "banned_phrases": ["has shipped"]}
    profile.save()
    outcome = _draft_for("Where is my tent?")
    assert "has shipped" not in outcome.draft.body.lower()
    assert outcome.model_run.evaluation["banned_removed"] == ["has shipped"]


def test_an_edited_approved_reply_is_retrieved_for_a_similar_question_edited_first(demo_shop):
    from django.contrib.auth import get_user_model

    agent_user = get_user_model().objects.get(username="agent")
    first = _draft_for("Do you sell kayaks?").draft
    draft_edit_and_approve(draft_id=first.pk, acting_user=agent_user,
                           final_text="Hi Sam, we are looking at kayaks from Sea Eagle for next spring.")
    approval = Approval.objects.get(draft=first)
    assert approved_reply_index(approval_id=approval.pk) is True
    outcome = draft_compose(email=email_in(from_address="x@example.org", subject="Kayaks?",
                                           body="Do you sell inflatable kayaks? I would love one."))
    assert outcome.context.replies and outcome.context.replies[0].facts["edited"] is True
    assert "Sea Eagle" in outcome.context.replies[0].facts["text"]


def _ada_email(body: str = "Where is my order #1001?"):
    return email_in(from_address="ada.lovelace@example.com", subject="Order", body=body)


def test_the_customer_facts_come_from_the_summary_with_the_open_drafts(demo_shop):
    pending = _draft_for("Where is my tent?").draft
    customer_summary_refresh()
    ctx = draft_compose(email=_ada_email()).context
    assert ctx.customer.facts["first_name"] == "Ada"
    assert [d["id"] for d in ctx.customer.facts["open_drafts"]] == [pending.pk]
    assert ctx.customer.facts["open_drafts"][0]["intent"] == "order_status"
    assert ctx.referenced_order.facts["name"] == "#1001"


def test_an_order_changed_since_the_last_refresh_is_read_current(demo_shop):
    Order.objects.filter(name="#1001").update(status="refunded")  # after the refresh: the summary is stale
    outcome = draft_compose(email=_ada_email())
    assert outcome.context.referenced_order.facts["status"] == "refunded"
    assert "was refunded" in outcome.result.body


def test_a_customer_the_summary_does_not_hold_yet_is_read_from_the_live_rows():
    seed_demo()  # no refresh: the read model is empty, as for a lead created by this very email
    outcome = draft_compose(email=_ada_email())
    assert outcome.context.customer.facts["first_name"] == "Ada"
    assert "open_drafts" not in outcome.context.customer.facts
    assert "1Z999AA10123456784" in outcome.result.body


def _latency_observations() -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("draft_latency_seconds_count") or 0.0


def test_every_draft_is_observed_in_draft_latency_seconds(demo_shop):
    before = _latency_observations()
    _draft_for("Where is my tent?")
    assert _latency_observations() == before + 1
    assert draft_generate(message_id=Message.objects.get(subject="Where is my tent?").pk) is None  # kept: no draft
    assert _latency_observations() == before + 1


def test_a_question_only_the_website_answers_quotes_the_page_and_cites_its_snapshot(demo_shop):
    from integrations.models import SiteSnapshot

    outcome = draft_compose(email=email_in(
        from_address="barbara.liskov@example.com", subject="Warranty on tent poles",
        body="One of the poles of my Ridgeline tent snapped after a month. Is that covered by your warranty?"))
    site = [s for s in outcome.result.used if s.kind == "site"]
    snapshot = SiteSnapshot.objects.get(url="https://demo-shop.example/pages/warranty")
    assert site and site[0].id == str(snapshot.pk) and site[0].url == snapshot.url
    assert "2-year warranty" in outcome.result.body and snapshot.url in outcome.result.body
    assert outcome.unsupported == []
