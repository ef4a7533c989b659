"""The series the Grafana dashboard reads and no other test covers: the oldest customer wait, drafts sent,
and model cost by model, exported on /metrics (deploy/grafana/dashboards/omnichannel.json)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from assistants.models import ModelRun
from conversations.models import Conversation, Draft
from conversations.services.approvals import draft_approve
from conversations.services.sending import draft_mark_sent, draft_send_claim
from tests.builders import make_draft, make_inbound_message

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dashboards" / "omnichannel.json"


def _scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.content.decode())
        for s in family.samples
    }


@pytest.mark.django_db
def test_the_oldest_customer_wait_is_the_oldest_unanswered_email_of_an_open_conversation_at_scrape_time(client):
    assert _scrape(client)[("conversation_oldest_customer_wait_seconds", ())] == 0
    now = timezone.now()
    old = make_inbound_message(email="ada@example.com", sent_at=now - timedelta(hours=2))
    make_inbound_message(email="bob@example.com", sent_at=now - timedelta(minutes=5))
    assert 7199 <= _scrape(client)[("conversation_oldest_customer_wait_seconds", ())] <= 7260
    # Closed (or answered) conversations wait for nobody: the next oldest is the five-minute one.
    Conversation.objects.filter(pk=old.conversation_id).update(status=Conversation.Status.CLOSED)
    assert 299 <= _scrape(client)[("conversation_oldest_customer_wait_seconds", ())] <= 360


@pytest.mark.django_db
def test_a_sent_draft_is_counted_once_after_commit(client, django_capture_on_commit_callbacks):
    agent = get_user_model().objects.create_user(username="agent-m", password="pw", is_staff=True)
    agent.groups.add(Group.objects.get(name="Agents"))
    draft = make_draft()
    before = _scrape(client).get(("drafts_sent_total", ()), 0.0)
    draft_approve(draft_id=draft.pk, acting_user=agent)
    reply = draft_send_claim(draft_id=draft.pk)
    with django_capture_on_commit_callbacks(execute=True):
        draft_mark_sent(reply=reply, external_msg_id="sent-metric-1", from_address="support@demo-shop.example")
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.SENT
    assert _scrape(client)[("drafts_sent_total", ())] == before + 1
    # Saving the sent draft again is no new send.
    with django_capture_on_commit_callbacks(execute=True):
        Draft.objects.get(pk=draft.pk).save()
    assert _scrape(client)[("drafts_sent_total", ())] == before + 1


@pytest.mark.django_db
def test_model_cost_is_counted_by_model_and_a_rolled_back_run_is_not(client, django_capture_on_commit_callbacks):
    def cost(model: str) -> float:
        return _scrape(client).get(("model_cost_usd_total", (("model", model),)), 0.0)

    small, large = cost("bench-small"), cost("bench-large")
    with django_capture_on_commit_callbacks(execute=True):
        for model, usd in (("bench-small", "0.0125"), ("bench-small", "0.0250"), ("bench-large", "1.5")):
            ModelRun.objects.create(provider="test", model_slug=model, prompt_hash="h", cost_usd=Decimal(usd))
    assert cost("bench-small") == pytest.approx(small + 0.0375)
    assert cost("bench-large") == pytest.approx(large + 1.5)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            ModelRun.objects.create(provider="test", model_slug="bench-large", prompt_hash="h", cost_usd=Decimal(7))
            raise RuntimeError("the drafting transaction fails")
    assert cost("bench-large") == pytest.approx(large + 1.5)


def test_the_dashboard_reads_the_exported_names_and_no_panel_says_not_exported():
    text = DASHBOARD.read_text()
    assert "NOT EXPORTED" not in text
    exprs = " ".join(target["expr"] for panel in json.loads(text)["panels"] for target in panel.get("targets", []))
    for name in ("conversation_oldest_customer_wait_seconds", "drafts_sent_total", "model_cost_usd_total"):
        assert name in exprs
