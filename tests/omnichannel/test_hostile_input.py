"""Hostile input to the API and the probes gets a clear 4xx, never a 500 (issue item 10)."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from tests.builders import make_draft, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent() -> APIClient:
    return token_client("Agents", "hostile-agent")[0]


@pytest.mark.parametrize("body", ["[" * 100_000, '{"reason":' * 5_000 + '"x"' + "}" * 5_000,
                                  '{"reason": "x", "deep": ' + "[" * 70 + "]" * 70 + "}"])
def test_a_deeply_nested_json_body_is_answered_400_naming_the_nesting(agent, body):
    draft = make_draft()
    response = agent.post(f"/api/drafts/{draft.pk}/reject/", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "nested more than 64 levels deep" in response.json()["detail"]
    draft.refresh_from_db()
    assert draft.status == "pending"


def test_ordinary_json_still_works(agent):
    draft = make_draft()
    response = agent.post(f"/api/drafts/{draft.pk}/reject/", data={"reason": "wrong order"}, format="json")
    assert response.status_code == 200 and response.json()["action"] == "reject"


@pytest.mark.parametrize("email", ["ada\x00@example.com", "ada@example.com\x00", "ada@exa\r\nmple.com",
                                   "a" * 300 + "@example.com"])
def test_a_customer_summary_lookup_with_control_characters_is_answered_400(agent, email):
    response = agent.get("/api/customer_summary/", {"email": email})
    assert response.status_code == 400
    assert "email" in response.json()


def test_readyz_tells_strangers_only_which_check_failed_and_logs_the_details(client, settings, caplog):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}  # nothing listens on port 1
    with caplog.at_level(logging.WARNING, logger="omnichannel.health"):
        stranger = client.get("/readyz", REMOTE_ADDR="203.0.113.7")
    assert stranger.status_code == 503
    assert stranger.json() == {"status": "not ready", "checks": {"database": {"ok": True}, "cache": {"ok": False},
                                                                 "chroma": {"ok": True}}}
    assert "127.0.0.1:1" not in stranger.content.decode() and "postgres" not in stranger.content.decode()
    assert any("127.0.0.1:1" in record.getMessage() for record in caplog.records)

    insider = client.get("/readyz", REMOTE_ADDR="127.0.0.1")  # METRICS_ALLOWED_IPS
    assert insider.status_code == 503 and "127.0.0.1:1" in insider.json()["checks"]["cache"]["error"]


def test_readyz_shows_details_to_staff(client, settings):
    settings.METRICS_ALLOWED_IPS = []
    client.force_login(get_user_model().objects.create_user(username="ops-staff", password="pw", is_staff=True))
    body = client.get("/readyz", REMOTE_ADDR="203.0.113.7").json()
    assert body["status"] == "ready" and body["checks"]["database"]["detail"] == "postgresql"
