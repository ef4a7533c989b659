"""A past reply in the openai prompt is an example of tone: a model that gives one as the source of a
fact is caught, recorded and capped, never silently trusted or silently dropped."""

from __future__ import annotations

import pytest

from assistants import vectorstore
from assistants.services import draft_generate
from tests.assistants import test_openai_provider as scripted
from tests.assistants.test_openai_provider import _ada_writes, _source_id, structured

llm = scripted.llm  # the scripted OpenAI-compatible server, as a fixture of this module too

pytestmark = pytest.mark.django_db

GIFT_WRAP_EMAIL = ("Hello, I ordered the Ridgeline tent (order 1001) as a birthday present for my brother. "
                   "Do you gift wrap?\nAda")


@pytest.fixture
def past_reply():
    """An agent's approved reply to another customer, scrubbed as indexing.py stores it."""
    vectorstore.index_upsert(vectorstore.REPLIES, [vectorstore.IndexItem(
        "approval-9001", "Do you gift wrap a tent ordered as a birthday present?",
        {"approval_id": 9001, "edited": True, "scrubbed": True,
         "reply": "Hi [name], yes: we gift wrap every order for free and add a card."}),
        vectorstore.IndexItem(
            "approval-9002", "Where is my order? I ordered the tent last week",
            {"approval_id": 9002, "edited": False, "scrubbed": True,
             "reply": "Hi [name], your order [order] left us today; you will get the tracking link by email."})])


def _example_id(body: dict) -> str:
    prompt = body["messages"][1]["content"]
    line = next(line for line in prompt.splitlines() if "example (a past reply" in line)
    return line[1:line.index("]")]


def test_an_answer_whose_only_source_is_a_past_reply_goes_to_a_person_with_the_reason(llm, past_reply):
    seen = {}

    def answer(body):
        seen["example"] = _example_id(body)
        return structured("Thanks for your message!",
                          (1, "Yes, we gift wrap every order for free and add a card.", [seen["example"]], False))

    llm((200, answer))
    outcome = draft_generate(message_id=_ada_writes("gift wrap?", GIFT_WRAP_EMAIL).pk, refresh=True)

    caps = {c["reason"]: c["detail"] for c in outcome.reasons.caps}
    assert seen["example"] in caps["past reply cited"] and outcome.draft.confidence <= 0.3
    assert outcome.reasons.answered == [] and outcome.reasons.needs_person
    assert outcome.model_run.evaluation["requests"][0]["sources"] == []
    assert not any(s["kind"] == "reply" for s in outcome.model_run.sources)


def test_a_past_reply_cited_next_to_a_shop_source_still_leaves_that_request_to_a_person(llm, past_reply):
    def answer(body):
        order = _source_id(body, "order", "#1001")
        return structured("Thanks for your message!",
                          (1, "Your order #1001 has shipped, and yes, we wrap it for free.",
                           [order, _example_id(body)], False))

    llm((200, answer))
    outcome = draft_generate(message_id=_ada_writes("gift wrap?", GIFT_WRAP_EMAIL).pk, refresh=True)

    assert "past reply cited" in {c["reason"] for c in outcome.reasons.caps}
    assert outcome.draft.confidence <= 0.3 and outcome.reasons.answered == []


def test_a_past_reply_in_the_prompt_but_not_cited_costs_nothing(llm, past_reply):
    def answer(body):
        assert _example_id(body)  # the example was there, for tone
        order = _source_id(body, "order", "#1001")
        return structured("Thanks for your message!",
                          (1, "Your order #1001 has shipped with UPS.", [order], False))

    llm((200, answer))
    outcome = draft_generate(message_id=_ada_writes("where is it", "Where is my order 1001? Ada").pk,
                             refresh=True)
    assert "past reply cited" not in {c["reason"] for c in outcome.reasons.caps}
    assert outcome.reasons.answered == ["order status"] and outcome.draft.confidence >= 0.8
