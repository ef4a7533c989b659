"""A draft's confidence means something, and its reasons are kept with it, shown and served."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from assistants.confidence import bucket
from assistants.context import email_in
from assistants.services import draft_compose, draft_generate
from tests.builders import make_inbound_message

pytestmark = pytest.mark.django_db


def test_a_fully_answered_email_is_high_and_says_what_answered_it(demo_shop):
    outcome = draft_compose(email=email_in(from_address="ada.lovelace@example.com", subject="tent",
                                           body="Has my order #1001 shipped?"))
    assert bucket(outcome.result.confidence) == "high"
    assert outcome.reasons.summary == "answered: order status"
    assert "order #1001" in outcome.reasons.sources


def test_one_request_a_person_must_answer_keeps_the_whole_draft_below_half(demo_shop):
    outcome = draft_compose(email=email_in(
        from_address="ada.lovelace@example.com", subject="two things",
        body="Has my order #1001 shipped? Also, could we buy 30 of your tents wholesale for our club?"))
    assert "1Z999AA10123456784" in outcome.result.body
    assert outcome.result.confidence < 0.5
    assert outcome.reasons.summary == "answered: order status; needs a person: wholesale"


def test_the_reasons_are_stored_on_the_run_and_served_with_the_draft(demo_shop):
    message = make_inbound_message(email="barbara.liskov@example.com", subject="stove",
                                   body="how much is the titanium stove, and is it in stock?")
    outcome = draft_generate(message_id=message.pk)
    stored = outcome.model_run.evaluation["reasons"]
    assert stored["answered"] == ["price", "stock"] and stored["needs_person"] == []
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username="agent"))
    data = client.get(f"/api/drafts/{outcome.draft.pk}/").json()
    assert data["reasons"]["summary"] == "answered: price, stock"
    assert data["reasons"]["sources"] == ["inventory STOVE-TI-01"]
