"""The API mirrors the review page: Ops edit, approve, publish and dismiss FAQ proposals through the same services."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from conversations.services.approvals import draft_approve, draft_edit_and_approve
from faq.models import FaqEntry, FaqProposal
from faq.services_proposals import faq_proposals_refresh
from tests.builders import make_draft, make_inbound_message, token_client
from tests.integrations.shopify.conftest import fake_shop  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def _client(group: str, name: str) -> APIClient:
    return token_client(group, name)[0]


@pytest.fixture
def proposal() -> FaqProposal:
    agent = get_user_model().objects.create_user(username="api-faq-agent")
    for n, (body, reply) in enumerate([
            ("Do you offer gift wrapping?", "Hi Ada,\n\nYes: gift wrapping is $5, chosen at checkout.\n\nBest,\nShop"),
            ("Do you offer gift wrapping for a birthday?", None)]):
        draft = make_draft(intent="general", body="x", message=make_inbound_message(
            email=f"wrap{n}@example.com", subject="Gift", body=body))
        if reply:
            draft_edit_and_approve(draft_id=draft.pk, acting_user=agent, final_text=reply)
        else:
            draft_approve(draft_id=draft.pk, acting_user=agent)
    faq_proposals_refresh()
    return FaqProposal.objects.get()


def test_agents_read_proposals_with_their_observations_and_ops_decide(proposal):
    agent, ops = _client("Agents", "api-agent"), _client("Ops", "api-ops")
    listing = agent.get("/api/faq_proposals/?status=proposed").json()
    assert [p["id"] for p in listing["results"]] == [proposal.pk]
    detail = agent.get(f"/api/faq_proposals/{proposal.pk}/").json()
    assert detail["source_count"] == 2 and len(detail["observations"]) == 2
    assert {o["conversation"] for o in detail["observations"]} == set(
        proposal.observations.values_list("conversation_id", flat=True))
    for action in ("edit", "approve", "publish", "dismiss", "refresh"):
        url = "/api/faq_proposals/refresh/" if action == "refresh" else f"/api/faq_proposals/{proposal.pk}/{action}/"
        assert agent.post(url, {"reason": "x"}, format="json").status_code == 403, action
    edited = ops.post(f"/api/faq_proposals/{proposal.pk}/edit/", {"answer": "Yes: $5 per order."}, format="json")
    assert edited.status_code == 200 and edited.json()["answer"] == "Yes: $5 per order."
    assert edited.json()["edited_by_ops"] is True


def test_publish_through_the_api_rebuilds_the_shop_page_and_a_dismissed_one_answers_409(
        proposal, fake_shop, django_capture_on_commit_callbacks):  # noqa: F811
    ops = _client("Ops", "api-ops")
    with django_capture_on_commit_callbacks(execute=True):
        published = ops.post(f"/api/faq_proposals/{proposal.pk}/publish/", {}, format="json")
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert FaqEntry.objects.get().status == "published"
    assert "gift wrapping is $5" in fake_shop.resources["pages"][0]["body_html"]
    refused = ops.post(f"/api/faq_proposals/{proposal.pk}/dismiss/", {"reason": "too late"}, format="json")
    assert refused.status_code == 409


def test_text_holding_a_customers_facts_is_refused_with_400_and_a_dismissal_needs_a_reason(proposal):
    ops = _client("Ops", "api-ops")
    refused = ops.post(f"/api/faq_proposals/{proposal.pk}/publish/",
                       {"answer": "Ada's parcel 9400111899223197428490 left today."}, format="json")
    assert refused.status_code == 400 and refused.json()["found"] == ["tracking number"]
    placeholder = ops.post(f"/api/faq_proposals/{proposal.pk}/publish/",
                           {"answer": "Your [order number] is wrapped for $5."}, format="json")
    assert placeholder.status_code == 400 and placeholder.json()["placeholders"] == ["order number"]
    assert ops.post(f"/api/faq_proposals/{proposal.pk}/dismiss/", {}, format="json").status_code == 400
    proposal.refresh_from_db()
    assert proposal.status == "proposed" and not FaqEntry.objects.exists()
    dismissed = ops.post(f"/api/faq_proposals/{proposal.pk}/dismiss/", {"reason": "Seasonal only."}, format="json")
    assert dismissed.status_code == 200 and dismissed.json()["dismissed_reason"] == "Seasonal only."
    assert ops.post(f"/api/faq_proposals/{proposal.pk}/approve/", {}, format="json").status_code == 409


def test_refresh_through_the_api_reports_what_it_placed():
    ops = _client("Ops", "api-ops")
    report = ops.post("/api/faq_proposals/refresh/", {}, format="json")
    assert report.status_code == 200 and report.json()["created"] == [] and report.json()["mode"] == "words"
