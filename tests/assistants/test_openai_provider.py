"""The OpenAI-compatible provider against a small local server that speaks chat completions."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistants.models import ModelRun
from assistants.services import draft_generate
from conversations.models import Message
from integrations.demo import seed_demo
from omnichannel import correlation
from omnichannel.models import AuditLog

pytestmark = pytest.mark.django_db


class ChatServer:
    """Answers POST /v1/chat/completions from a script of (status, body) pairs, then repeats the last.
    A body may be a function of the request's JSON: an answer that cites the ids the prompt gave."""

    def __init__(self, script):
        self.script = list(script)
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                        "body": json.loads(self.rfile.read(length))})
                status, body = server.script.pop(0) if len(server.script) > 1 else server.script[0]
                if callable(body):
                    body = body(server.requests[-1]["body"])
                if status == "hang":
                    threading.Event().wait(2)
                    status, body = 200, "{}"
                payload = body if isinstance(body, str) else json.dumps(body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def completion(text: str, model: str = "gpt-4o-mini") -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 812, "completion_tokens": 64, "total_tokens": 876}}


@pytest.fixture
def llm(settings):
    servers = []

    def start(*script):
        server = ChatServer(script)
        servers.append(server)
        settings.LLM_PROVIDER = "openai"
        settings.LLM_BASE_URL = server.url
        settings.LLM_API_KEY = "sk-test"
        settings.LLM_MODEL = "gpt-4o-mini"
        settings.LLM_TIMEOUT_SECONDS = 0.5
        return server

    seed_demo()
    yield start
    for server in servers:
        server.close()


def _tent_message():
    return Message.objects.get(subject="Where is my tent?")


def _cited_source_number(server, kind: str) -> int:
    prompt = server.requests[-1]["body"]["messages"][1]["content"]
    line = next(line for line in prompt.splitlines() if line.startswith("[S") and f"] {kind} " in line)
    return int(line[2:line.index("]")])


def test_the_facts_go_in_as_numbered_sources_and_the_cited_ones_are_recorded(llm):
    server = llm((200, completion("placeholder")))
    draft_generate(message_id=_tent_message().pk)  # learn the numbering the prompt uses
    n = _cited_source_number(server, "order")
    server.script = [(200, completion(f"Your order #1001 shipped with UPS 1Z999AA10123456784 [{n}]."))]
    outcome = draft_generate(message_id=_tent_message().pk, refresh=True)
    request = server.requests[-1]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    assert "1Z999AA10123456784" in request["body"]["messages"][1]["content"]
    run = outcome.model_run
    assert run.status == ModelRun.Status.OK and run.tokens_in == 812 and run.tokens_out == 64
    assert [s["kind"] for s in run.sources] == ["order"]
    assert float(run.cost_usd) == pytest.approx((812 * 0.15 + 64 * 0.60) / 1e6)
    assert outcome.draft.body.startswith("Hi Ada,")
    assert f"[{n}]" not in outcome.draft.body and "1Z999AA10123456784." in outcome.draft.body  # marker stripped


def test_the_model_is_told_the_customers_language_and_requests(llm):
    server = llm((200, completion("Ihre Bestellung ist unterwegs.")))
    message = Message.objects.get(subject="Where is my tent?")
    Message.objects.filter(pk=message.pk).update(body="Hallo, wo ist meine Bestellung #1001? Ich warte schon lange.")
    draft_generate(message_id=message.pk, refresh=True)
    prompt = server.requests[-1]["body"]["messages"][1]["content"]
    assert "Write the reply in German" in prompt and "wo ist meine Bestellung #1001?" in prompt


def test_429_and_500_are_retried_then_the_answer_is_used(llm):
    server = llm((429, {"error": "rate"}), (500, {"error": "boom"}), (200, completion("All good, no facts.")))
    outcome = draft_generate(message_id=_tent_message().pk)
    assert len(server.requests) == 3
    assert outcome.model_run.status == ModelRun.Status.OK and "All good" in outcome.draft.body


def test_garbage_is_a_recorded_failure_and_the_agent_still_gets_a_low_confidence_draft(llm):
    llm((200, "this is not json"))
    with correlation.use("corr-garbage-llm"):
        outcome = draft_generate(message_id=_tent_message().pk)
    assert outcome.model_run.status == ModelRun.Status.FAILED
    assert "non-JSON" in outcome.model_run.error
    assert outcome.draft.confidence <= 0.3 and "1Z999AA10123456784" in outcome.draft.body  # grounded fallback
    audit = AuditLog.objects.get(event_type="draft.created", object_id=str(outcome.draft.pk))
    assert "non-JSON" in audit.payload["provider_error"] and audit.correlation_id == "corr-garbage-llm"


def test_a_timeout_is_retried_then_recorded(llm, settings):
    settings.LLM_MAX_RETRIES = 2
    server = llm(("hang", None))
    outcome = draft_generate(message_id=_tent_message().pk)
    assert len(server.requests) == 2
    assert outcome.model_run.status == ModelRun.Status.FAILED and "attempts" in outcome.model_run.error


def test_a_4xx_is_permanent_and_not_retried(llm):
    server = llm((401, {"error": {"message": "bad key"}}))
    outcome = draft_generate(message_id=_tent_message().pk)
    assert len(server.requests) == 1 and "401" in outcome.model_run.error


def test_a_redraft_sends_the_agents_reason_to_the_model_as_an_instruction(llm, django_capture_on_commit_callbacks):
    from django.contrib.auth import get_user_model

    from conversations.services.approvals import draft_reject_and_redraft

    server = llm((200, completion("placeholder")))
    first = draft_generate(message_id=_tent_message().pk).draft
    n = _cited_source_number(server, "order")
    server.script = [(200, completion(f"Your order #1001 shipped with UPS 1Z999AA10123456784 [{n}], in time for Saturday."))]
    agent = get_user_model().objects.get(username="agent")
    with django_capture_on_commit_callbacks(execute=True):
        draft_reject_and_redraft(draft_id=first.pk, acting_user=agent, reason="Say whether it arrives by Saturday")
    prompt = server.requests[-1]["body"]["messages"][1]["content"]
    assert "The support agent rejected the previous draft and asks: Say whether it arrives by Saturday" in prompt
    redraft = first.__class__.objects.get(replaces=first)
    assert "in time for Saturday" in redraft.body


# --- a model that answers badly: each is caught by a check of its own, whatever the model says ---------------

def _caps(outcome) -> dict[str, str]:
    return {cap["reason"]: cap["detail"] for cap in outcome.reasons.caps}


def test_a_tracking_number_and_a_date_no_source_holds_cap_the_confidence_and_are_named(llm):
    llm((200, completion("Good news: your order #1001 left our warehouse with DHL, tracking JD014600003828, "
                         "and will be with you on 24 December.")))
    outcome = draft_generate(message_id=_tent_message().pk)
    assert "JD014600003828" in outcome.unsupported
    assert outcome.draft.confidence <= 0.3
    assert "JD014600003828" in _caps(outcome)["unsupported facts"]


def test_another_customers_tracking_number_in_the_answer_is_caught_and_was_never_in_the_prompt(llm):
    from customers.models import Order

    message = _tent_message()
    theirs = (Order.objects.exclude(customer_id=message.conversation.customer_id).exclude(tracking_numbers=[])
              .order_by("pk").first())
    assert theirs is not None, "the demo shop has other customers' shipped orders"
    leaked = theirs.tracking_numbers[0]
    server = llm((200, completion(f"Your parcel is on its way, tracking number {leaked}.")))
    outcome = draft_generate(message_id=message.pk)
    assert leaked not in json.dumps(server.requests[-1]["body"])  # the context held only the sender's data
    assert leaked in outcome.unsupported and outcome.draft.confidence <= 0.3


def test_an_english_answer_to_a_german_email_is_flagged_and_a_german_one_is_not(llm):
    server = llm((200, completion("Thank you for your patience, your order is on its way and will arrive soon.")))
    message = _tent_message()
    Message.objects.filter(pk=message.pk).update(
        body="Hallo, wo bleibt meine Bestellung #1001? Ich warte jetzt schon seit zwei Wochen darauf.")
    outcome = draft_generate(message_id=message.pk, refresh=True)
    assert outcome.language == "de"
    assert "the reply is written in en" in _caps(outcome)["language"] and outcome.draft.confidence <= 0.4

    server.script = [(200, completion("Vielen Dank für Ihre Geduld, Ihre Bestellung ist unterwegs und kommt bald an."))]
    outcome = draft_generate(message_id=message.pk, refresh=True)
    assert "language" not in _caps(outcome)


# --- structured output: per request, the answer and the ids of the sources it used -------------------------

def _source_id(body: dict, kind: str, label: str) -> str:
    """The id the prompt gave the source of `kind` whose label holds `label` ("S3")."""
    prompt = body["messages"][1]["content"]
    line = next(line for line in prompt.splitlines() if line.startswith("[S") and f"] {kind} " in line
                and label in line)
    return line[1:line.index("]")]


def structured(opening: str, *answers: tuple, closing: str = "") -> dict:
    """A completion whose content is the reply object: answers are (request, text, source_ids, needs_person)."""
    return completion(json.dumps({
        "opening": opening, "closing": closing,
        "answers": [{"request": n, "answer": text, "source_ids": ids, "needs_person": person}
                    for n, text, ids, person in answers]}))


def _ada_writes(subject: str, body: str) -> Message:
    message = _tent_message()
    Message.objects.filter(pk=message.pk).update(subject=subject, body=body)
    return message


TENT_AND_STOVE = ("Hi there,\n\nI ordered the Ridgeline tent last week (order no. 1001) - has it been sent out yet? "
                  "Also do you still have the titanium camp stove?\n\nCheers,\nAda")


def test_a_structured_answer_to_both_requests_with_given_sources_is_confident_and_says_what_it_used(llm):
    def answer(body):
        order, stove = _source_id(body, "order", "#1001"), _source_id(body, "inventory", "STOVE-TI-01")
        return structured(
            "Thanks for your message!",
            (1, f"Yes, order #1001 left us with UPS, tracking number 1Z999AA10123456784 [{order}].", [order], False),
            (2, "The Titanium camp stove is in stock, 42 available at 65.00 USD.", [stove], False))

    server = llm((200, answer))
    message = _ada_writes("tent + stove", TENT_AND_STOVE)
    outcome = draft_generate(message_id=message.pk, refresh=True)

    sent = server.requests[-1]["body"]
    assert sent["response_format"]["type"] == "json_schema"
    schema = sent["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["answers"]["items"]["required"] == ["request", "answer", "source_ids", "needs_person"]
    prompt = sent["messages"][1]["content"]
    order_id = _source_id(sent, "order", "#1001")
    assert f"[{order_id}] order Order #1001" in prompt
    assert "1. has it been sent out yet?" in prompt and "2. Also do you still have the titanium camp stove?" in prompt

    assert outcome.reasons.answered == ["order status", "stock"] and outcome.reasons.needs_person == []
    assert outcome.reasons.sources == ["order #1001", "inventory STOVE-TI-01"]
    assert outcome.reasons.caps == [] and outcome.draft.confidence >= 0.8
    assert [r["answered"] for r in outcome.requests_json()] == [True, True]
    run = outcome.model_run
    assert [(r["topic"], r["sources"]) for r in run.evaluation["requests"]] == [
        ("order status", ["order #1001"]), ("stock", ["inventory STOVE-TI-01"])]
    assert [s["kind"] for s in run.sources] == ["order", "inventory"]
    assert run.evaluation["reasons"]["sources"] == ["order #1001", "inventory STOVE-TI-01"]
    # The agent reads a reply, not the model's JSON or its markers.
    body = outcome.draft.body
    assert body.startswith("Hi Ada,") and "Thanks for your message!" in body and "42 available at 65.00 USD" in body
    assert "{" not in body and "source_ids" not in body and order_id not in body and "[" not in body


def test_a_source_id_the_prompt_never_gave_caps_the_draft_and_leaves_that_request_to_a_person(llm):
    def answer(body):
        order = _source_id(body, "order", "#1001")
        return structured(
            "Thanks for getting in touch.",
            (1, "Your order #1001 has shipped with UPS.", [order], False),
            (2, "Good news, the camp stove is back in stock.", ["S17"], False))

    llm((200, answer))
    outcome = draft_generate(message_id=_ada_writes("tent + stove", TENT_AND_STOVE).pk, refresh=True)
    assert "source S17" in outcome.unsupported
    assert "S17" in _caps(outcome)["unsupported facts"] and outcome.draft.confidence <= 0.3
    assert outcome.reasons.answered == ["order status"] and outcome.reasons.needs_person == ["stock"]
    assert outcome.model_run.evaluation["unsupported_facts"] == ["source S17"]


def test_a_request_the_model_leaves_to_a_person_keeps_the_draft_below_half(llm):
    def answer(body):
        customer = _source_id(body, "customer", "Ada")  # cited, yet left to a person: needs_person decides
        return structured(
            "Thanks for thinking of us for your scout group!",
            (1, "I have passed your request to our trade team; they will come back to you with a quote for the "
                "tents.", [customer], True))

    llm((200, answer))
    message = _ada_writes("Bulk order for scouts", "Hello,\n\nwe run a scout group and need about 40 of the Ridgeline "
                          "tents before March. Any chance of a bulk price?\n\nKind regards,\nAda")
    outcome = draft_generate(message_id=message.pk, refresh=True)
    assert [r.intent for r in outcome.requests] == ["wholesale"]
    assert outcome.reasons.needs_person == ["wholesale"] and outcome.reasons.answered == []
    assert outcome.draft.confidence < 0.5 and "trade team" in outcome.draft.body


def test_plain_text_instead_of_the_schema_is_drafted_but_capped_as_unstructured(llm):
    llm((200, completion("Your order #1001 has shipped with UPS, tracking number 1Z999AA10123456784.")))
    outcome = draft_generate(message_id=_tent_message().pk)
    assert "unstructured" in _caps(outcome) and outcome.draft.confidence <= 0.4
    assert outcome.model_run.status == ModelRun.Status.OK and "1Z999AA10123456784" in outcome.draft.body


def test_a_server_that_refuses_response_format_is_asked_again_in_plain_text(llm):
    server = llm((400, {"error": {"message": "response_format of type json_schema is not supported by this model"}}),
                 (200, completion("Your order #1001 is on its way.")))
    outcome = draft_generate(message_id=_tent_message().pk)
    assert len(server.requests) == 2
    assert "response_format" in server.requests[0]["body"] and "response_format" not in server.requests[1]["body"]
    assert outcome.model_run.status == ModelRun.Status.OK and "unstructured" in _caps(outcome)


def test_json_that_does_not_fit_the_schema_is_a_failure_and_never_reaches_the_agent(llm):
    llm((200, completion(json.dumps({"reply": "Your order is fine", "sources": ["S1"]}))))
    outcome = draft_generate(message_id=_tent_message().pk)
    assert outcome.model_run.status == ModelRun.Status.FAILED and "reply schema" in outcome.model_run.error
    assert "{" not in outcome.draft.body and outcome.draft.confidence <= 0.3  # the grounded fallback
