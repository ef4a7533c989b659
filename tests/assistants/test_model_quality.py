"""The model_quality read model through `/api/model_quality/`: exact numbers from known drafts."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from assistants.models import ModelRun
from assistants.services import draft_generate
from conversations.models import Draft
from conversations.services.approvals import draft_approve, draft_edit_and_approve, draft_reject
from conversations.services.drafts import draft_create
from conversations.services.threads import MessageFacts, message_ingest
from tests.builders import token_client

pytestmark = pytest.mark.django_db
_seq = itertools.count(1)


def _draft(*, channel: str = "email", confidence: float, created: datetime, body: str = "Hello",
           run: tuple[int, int, str, int] | None = None, conversation_id: int | None = None) -> Draft:
    if conversation_id is None:
        n = next(_seq)
        message, _ = message_ingest(facts=MessageFacts(
            channel=channel, direction="inbound", external_msg_id=f"mq-{n}", external_thread_id=f"mq-thread-{n}",
            from_address=f"mq{n}@example.com", subject="Question", body="Where is my order?", sent_at=created),
            integration="test")
        conversation_id = message.conversation_id
    model_run = None
    if run is not None:
        tokens_in, tokens_out, cost, latency = run
        model_run = ModelRun.objects.create(provider="openai", model_slug="gpt-test", prompt_hash="h",
                                            tokens_in=tokens_in, tokens_out=tokens_out, cost_usd=Decimal(cost),
                                            latency_ms=latency)
    draft = draft_create(conversation_id=conversation_id, body=body, confidence=confidence, model_run=model_run)
    Draft.objects.filter(pk=draft.pk).update(created_at=created)  # a draft of a given week
    return draft


def _at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def decider(django_user_model):
    return django_user_model.objects.create_user(username="mq-decider")


@pytest.fixture
def agent():
    return token_client("Agents", "mq-agent", password=None)[0]


@pytest.fixture
def drafts(decider):
    # ISO week 45 (Mon 2 Nov to Sun 8 Nov 2026), email, high confidence (>= 0.8): one approved, two edited.
    a = _draft(confidence=0.9, created=_at(3), run=(1000, 200, "0.012", 800))
    draft_approve(draft_id=a.pk, acting_user=decider)
    b = _draft(confidence=0.8, created=_at(8, 23, 59), body="Hello\nOld text\nBye", run=(500, 100, "0.006", 400))
    draft_edit_and_approve(draft_id=b.pk, final_text="Hello\nNew text\nBye", acting_user=decider)  # 2 changed lines
    c = _draft(confidence=0.95, created=_at(4), body="a\nb\nc\nd", run=(300, 60, "0.003", 300))
    draft_edit_and_approve(draft_id=c.pk, final_text="a\nx\ny\nd", acting_user=decider)  # 4 changed lines
    # Week 45, email, low (< 0.5): rejected, no model run at all.
    d = _draft(confidence=0.49, created=_at(5))
    draft_reject(draft_id=d.pk, reason="wrong order", acting_user=decider)
    # Week 45, email, medium: a draft superseded by a newer one, which is still pending; neither is decided.
    older = _draft(confidence=0.6, created=_at(5, 9), run=(100, 20, "0.001", 1000))
    _draft(confidence=0.5, created=_at(5, 11), run=(100, 20, "0.001", 1000), conversation_id=older.conversation_id)
    # Week 45, chat, low: rejected.
    f = _draft(channel="chat", confidence=0.2, created=_at(6), run=(200, 40, "0.002", 600))
    draft_reject(draft_id=f.pk, reason="too vague", acting_user=decider)
    # Week 46 starts on Monday 9 Nov at 00:00 UTC.
    g = _draft(confidence=0.85, created=_at(9, 0, 0), run=(700, 150, "0.009", 200))
    draft_approve(draft_id=g.pk, acting_user=decider)


def _row(week, iso, channel, bucket, drafts, tin, tout, cost, latency, decided, approved, edited, rejected,
         rates, edit_lines):
    return {"week": week, "iso_week": iso, "channel": channel, "confidence_bucket": bucket, "drafts": drafts,
            "tokens_in": tin, "tokens_out": tout, "cost_usd": cost, "mean_latency_ms": latency, "decided": decided,
            "approved": approved, "edited": edited, "rejected": rejected, "approve_rate": rates[0],
            "edit_rate": rates[1], "reject_rate": rates[2], "mean_edit_lines": edit_lines}


W46_EMAIL_HIGH = _row("2026-11-09", "2026-W46", "email", "high", 1, 700, 150, "0.009000", 200.0, 1, 1, 0, 0,
                      (1.0, 0.0, 0.0), None)
W45_CHAT_LOW = _row("2026-11-02", "2026-W45", "chat", "low", 1, 200, 40, "0.002000", 600.0, 1, 0, 0, 1,
                    (0.0, 0.0, 1.0), None)
W45_EMAIL_LOW = _row("2026-11-02", "2026-W45", "email", "low", 1, 0, 0, "0.000000", None, 1, 0, 0, 1,
                     (0.0, 0.0, 1.0), None)
W45_EMAIL_MEDIUM = _row("2026-11-02", "2026-W45", "email", "medium", 2, 200, 40, "0.002000", 1000.0, 0, 0, 0, 0,
                        (None, None, None), None)
W45_EMAIL_HIGH = _row("2026-11-02", "2026-W45", "email", "high", 3, 1800, 360, "0.021000", 500.0, 3, 1, 2, 0,
                      (0.3333, 0.6667, 0.0), 3.0)


def test_every_week_channel_and_bucket_with_exact_numbers(agent, drafts):
    response = agent.get("/api/model_quality/")
    assert response.status_code == 200
    assert response.json() == [W46_EMAIL_HIGH, W45_CHAT_LOW, W45_EMAIL_LOW, W45_EMAIL_MEDIUM, W45_EMAIL_HIGH]


def test_filters_by_week_range_channel_and_bucket(agent, drafts):
    # Any day stands for its ISO week: Wednesday to Sunday of week 45 is week 45, all of it.
    week_45 = agent.get("/api/model_quality/?week_from=2026-11-04&week_to=2026-11-08").json()
    assert week_45 == [W45_CHAT_LOW, W45_EMAIL_LOW, W45_EMAIL_MEDIUM, W45_EMAIL_HIGH]
    assert agent.get("/api/model_quality/?week_from=2026-11-10").json() == [W46_EMAIL_HIGH]
    assert agent.get("/api/model_quality/?channel=chat").json() == [W45_CHAT_LOW]
    assert agent.get("/api/model_quality/?confidence_bucket=high&channel=email").json() == [W46_EMAIL_HIGH,
                                                                                          W45_EMAIL_HIGH]
    assert agent.get("/api/model_quality/?week_to=2026-11-01").json() == []


@pytest.mark.parametrize(("query", "field"), [("week_from=2026-13-01", "week_from"), ("week_to=yesterday", "week_to"),
                                              ("channel=fax", "channel"), ("confidence_bucket=huge", "confidence_bucket"),
                                              ("week_from=2026-11-09&week_to=2026-11-02", "week_to")])
def test_a_malformed_filter_is_a_400_naming_the_field(agent, query, field):
    response = agent.get(f"/api/model_quality/?{query}")
    assert response.status_code == 400 and field in response.json()


def test_writes_are_405_and_a_user_without_a_group_is_refused(agent):
    assert agent.post("/api/model_quality/", {}, format="json").status_code == 405
    nobody = APIClient()
    nobody.force_authenticate(get_user_model().objects.create_user(username="mq-nobody"))
    assert nobody.get("/api/model_quality/").status_code == 403


def _email(*, sent: datetime, subject: str, body: str, sender: str = "", channel: str = "email",
           triaged: bool = True) -> None:
    """An inbound email as it arrives, triaged as generate_draft does it."""
    n = next(_seq)
    message, _ = message_ingest(facts=MessageFacts(
        channel=channel, direction="inbound", external_msg_id=f"tq-{n}", external_thread_id=f"tq-thread-{n}",
        from_address=sender or f"tq{n}@example.com", subject=subject, body=body, sent_at=sent), integration="test")
    if triaged:
        draft_generate(message_id=message.pk)


@pytest.fixture
def triaged_mail():
    # Week 45: two customer emails (one at the very end of Sunday), an out-of-office, a bounce; a pitch by chat.
    _email(sent=_at(3), subject="Where is my order?", body="Where is my order #1001?")
    _email(sent=_at(8, 23, 59), subject="Tent", body="Is the Ridgeline tent in stock?")
    _email(sent=_at(4), subject="Automatic reply: Re: Your order", body="I am out of the office until Monday.")
    _email(sent=_at(5), subject="Undelivered Mail Returned to Sender", body="This is the mail system.",
           sender="mailer-daemon@mx.example.com")
    _email(sent=_at(6), channel="chat", subject="", body="Hi! I came across your website: our SEO agency can get you "
                                                         "on the first page of Google. Book a quick call?")
    # Week 46: an erasure request; an email not triaged yet (its task still queued) is not counted.
    _email(sent=_at(9, 0, 0), subject="GDPR", body="Please delete my personal data and my account.")
    _email(sent=_at(10), subject="Hello", body="Any news?", triaged=False)


def _triage_row(week: str, iso: str, channel: str, label: str, emails: int) -> dict:
    return {"week": week, "iso_week": iso, "channel": channel, "label": label, "emails": emails}


def test_triaged_emails_are_counted_per_week_channel_and_label(agent, triaged_mail):
    response = agent.get("/api/model_quality/triage/")
    assert response.status_code == 200
    assert response.json() == [
        _triage_row("2026-11-09", "2026-W46", "email", "privacy_request", 1),
        _triage_row("2026-11-02", "2026-W45", "chat", "spam", 1),
        _triage_row("2026-11-02", "2026-W45", "email", "customer", 2),
        _triage_row("2026-11-02", "2026-W45", "email", "auto_reply", 1),
        _triage_row("2026-11-02", "2026-W45", "email", "bounce", 1),
    ]
    assert agent.get("/api/model_quality/triage/?label=bounce").json() == [
        _triage_row("2026-11-02", "2026-W45", "email", "bounce", 1)]
    assert agent.get("/api/model_quality/triage/?week_from=2026-11-12&channel=email").json() == [
        _triage_row("2026-11-09", "2026-W46", "email", "privacy_request", 1)]


@pytest.mark.parametrize(("query", "field"), [("label=ham", "label"), ("channel=fax", "channel"),
                                              ("week_from=2026-11-09&week_to=2026-11-02", "week_to")])
def test_a_malformed_triage_filter_is_a_400_naming_the_field(agent, query, field):
    response = agent.get(f"/api/model_quality/triage/?{query}")
    assert response.status_code == 400 and field in response.json()


def test_calibration_gives_the_share_edited_or_rejected_per_bucket(agent, drafts):
    response = agent.get("/api/model_quality/calibration/")
    assert response.status_code == 200
    assert response.json() == [
        {"confidence_bucket": "low", "drafts": 2, "decided": 2, "approved": 0, "edited": 0, "rejected": 2,
         "edited_or_rejected_rate": 1.0},
        {"confidence_bucket": "medium", "drafts": 2, "decided": 0, "approved": 0, "edited": 0, "rejected": 0,
         "edited_or_rejected_rate": None},
        {"confidence_bucket": "high", "drafts": 4, "decided": 4, "approved": 2, "edited": 2, "rejected": 0,
         "edited_or_rejected_rate": 0.5},
    ]
    assert agent.get("/api/model_quality/calibration/?channel=chat").json()[0]["decided"] == 1
    assert agent.get("/api/model_quality/calibration/?week_from=2026-11-09").json()[2]["edited_or_rejected_rate"] == 0.0
