"""The integration API: auth, group permissions, draft actions with 409, read models, errors, schema."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from customers.models import Order
from customers.selectors import customer_summary_refresh
from faq.models import Correction
from integrations.demo import seed_demo
from omnichannel import api_urls
from tests.builders import make_draft, make_inbound_message, token_client

pytestmark = pytest.mark.django_db


def _client(group: str | None, name: str) -> APIClient:
    return token_client(group, name)[0]


@pytest.fixture
def agent():
    return _client("Agents", "api-agent")


@pytest.fixture
def ops():
    return _client("Ops", "api-ops")


def _routes() -> list[tuple[str, set[str]]]:
    """Every /api/ route (list, detail, action, read model, schema, docs, the API root, the format
    suffixes) with a concrete URL and the methods it serves, from the URL patterns themselves: a new
    route is covered without anyone adding it here."""
    routes = []
    for pattern in api_urls.urlpatterns:
        kwargs = {name: ("json" if name == "format" else "1") for name in pattern.pattern.regex.groupindex}
        url = reverse(pattern.name, kwargs=kwargs)
        callback = pattern.callback
        if hasattr(callback, "actions"):  # a viewset route: exactly the methods the router bound
            methods = set(callback.actions) | {"options"} | ({"head"} if "get" in callback.actions else set())
        else:
            view = callback.view_class
            methods = {m for m in view.http_method_names if hasattr(view, m)} - {"trace"}
        routes.append((url, methods))
    return routes


ROUTES = _routes()
WRITES = ("post", "put", "patch", "delete")


def test_the_route_list_covers_every_kind_of_route():
    urls = {url for url, _ in ROUTES}
    assert {"/api/", "/api/drafts/", "/api/drafts/1/", "/api/drafts/1/approve/", "/api/customers/1/erase/",
            "/api/customer_summary/1/", "/api/model_quality/", "/api/schema/", "/api/docs/"} <= urls
    assert len(ROUTES) > 40


@pytest.mark.parametrize(("url", "methods"), ROUTES, ids=[url for url, _ in ROUTES])
def test_every_route_refuses_an_anonymous_request_with_any_method(url, methods):
    client = APIClient()
    for method in sorted(methods | set(WRITES)):
        response = getattr(client, method)(url)
        assert response.status_code == 401, f"{method.upper()} {url} answered {response.status_code}"


@pytest.mark.parametrize(("url", "methods"), ROUTES, ids=[url for url, _ in ROUTES])
def test_every_write_a_route_does_not_serve_is_a_405(url, methods, ops):
    # Ops may write corrections, so a 403 cannot hide a 405 here; an Agent gets the same 405 (below).
    for method in WRITES:
        if method not in methods:
            response = getattr(ops, method)(url, {}, format="json")
            assert response.status_code == 405, f"{method.upper()} {url} answered {response.status_code}"


def test_an_agent_reads_what_agents_see_but_not_the_audit_log(agent):
    assert agent.get("/api/drafts/").status_code == 200
    assert agent.get("/api/orders/").status_code == 200
    assert agent.get("/api/audit_log/").status_code == 403


def test_a_token_without_a_group_is_refused(client):
    nobody = _client(None, "nobody")
    assert nobody.get("/api/drafts/").status_code == 403


def test_draft_actions_and_409_when_no_longer_pending(agent):
    draft = make_draft(body="Hello\nOld text\nBye")
    response = agent.post(f"/api/drafts/{draft.pk}/edit/", {"final_text": "Hello\nNew text\nBye"}, format="json")
    assert response.status_code == 200 and response.json()["action"] == "edit"
    assert "-Old text\n+New text" in response.json()["diff"]
    again = agent.post(f"/api/drafts/{draft.pk}/approve/")
    assert again.status_code == 409 and "cannot be decided again" in again.json()["detail"]
    other = make_draft()
    assert agent.post(f"/api/drafts/{other.pk}/reject/", {"reason": ""}, format="json").status_code == 400
    assert agent.post(f"/api/drafts/{other.pk}/reject/", {"reason": "wrong"}, format="json").status_code == 200


def test_an_agent_token_cannot_change_corrections_but_ops_can(agent, ops):
    payload = {"key": "gift-cards", "pattern": "gift card", "answer": "Gift cards never expire."}
    assert agent.post("/api/corrections/", payload, format="json").status_code == 403
    created = ops.post("/api/corrections/", payload, format="json")
    assert created.status_code == 201
    changed = ops.patch(f"/api/corrections/{created.json()['id']}/", {"answer": "They last 5 years."}, format="json")
    assert changed.status_code == 200 and Correction.objects.get(key="gift-cards").answer == "They last 5 years."


def test_read_only_resources_refuse_writes_with_405_even_for_an_agent(agent, ops):
    # An Agent has no add/change permission on orders: the method, not the permission, is the answer.
    assert agent.post("/api/orders/", {}, format="json").status_code == 405
    assert agent.put("/api/drafts/1/", {}, format="json").status_code == 405
    assert agent.get("/api/drafts/1/approve/").status_code == 405
    assert ops.delete("/api/corrections/1/").status_code == 405
    assert agent.delete("/api/corrections/1/").status_code == 405
    # A method the route serves but the user may not use stays a 403.
    assert agent.post("/api/corrections/", {}, format="json").status_code == 403


def test_unknown_ids_404_and_malformed_filters_400_naming_the_field(agent):
    assert agent.get("/api/drafts/999999/").status_code == 404
    response = agent.get("/api/drafts/?conversation=not-a-number")
    assert response.status_code == 400 and "conversation" in response.json()


def test_the_draft_list_runs_the_same_queries_for_10_and_60_drafts(agent):
    for i in range(10):
        make_draft(message=make_inbound_message(email=f"q{i}@example.com"))
    def count_queries() -> int:
        assert agent.get("/api/drafts/").status_code == 200  # steady state: the permission set is cached now
        executed = []
        with connection.execute_wrapper(lambda execute, sql, params, many, context: (
                executed.append(sql), execute(sql, params, many, context))[1]):
            assert agent.get("/api/drafts/").status_code == 200
        return len(executed)

    few = count_queries()
    for i in range(50):
        make_draft(message=make_inbound_message(email=f"r{i}@example.com"))
    assert few > 0 and count_queries() == few


def test_customer_summary_by_id_and_email_with_backorders_no_orders_and_guests(agent):
    seed_demo()
    customer_summary_refresh()
    grace = agent.get("/api/customer_summary/?email=Grace.Hopper@example.com").json()
    assert grace["latest_orders"][0]["name"] == "#1003" and grace["backordered_count"] == 1
    ada = agent.get(f"/api/customer_summary/{grace['customer_id']}/").json()
    assert ada["email"] == "grace.hopper@example.com"
    barbara = agent.get("/api/customer_summary/?email=barbara.liskov@example.com").json()
    assert barbara["latest_orders"] == [] and barbara["orders_count"] == 0
    guest = agent.get("/api/customer_summary/?email=guest.walker@example.net").json()
    assert guest["customer_id"] is None and {o["name"] for o in guest["latest_orders"]} == {"#1008", "#1009"}
    assert agent.get("/api/customer_summary/?email=nobody@example.org").status_code == 404
    assert agent.get("/api/customer_summary/?email=not-an-email").status_code == 400


def test_the_summary_follows_a_refresh_after_ingest(agent):
    seed_demo()
    customer_summary_refresh()
    order = Order.objects.get(name="#1003")
    order.status = "fulfilled"
    order.save()
    customer_summary_refresh()
    grace = agent.get("/api/customer_summary/?email=grace.hopper@example.com").json()
    assert grace["backordered_count"] == 0


def test_the_openapi_schema_is_served_and_docs_render(agent, client, django_user_model):
    schema = agent.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/drafts/{id}/approve/" in schema.content
    client.force_login(django_user_model.objects.get(username="api-agent"))
    assert client.get("/api/docs/").status_code == 200


def test_the_schema_is_valid_openapi_without_a_single_generator_warning(tmp_path):
    # --fail-on-warn turns every drf-spectacular warning (an unresolvable type, a missing serializer) into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/model_quality/" in (tmp_path / "schema.yaml").read_text()


def test_a_token_over_its_rate_gets_429_with_retry_after_and_other_tokens_do_not(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"token": "3/minute"}}
    busy, calm = _client("Agents", "throttled-agent"), _client("Agents", "calm-agent")
    assert [busy.get("/api/drafts/").status_code for _ in range(3)] == [200, 200, 200]
    refused = busy.get("/api/drafts/")
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60
    assert calm.get("/api/drafts/").status_code == 200


def test_a_conversation_shows_each_messages_triage_label_and_reason(agent):
    from assistants.services import draft_generate

    bounce = make_inbound_message(email="mailer-daemon@mx.example.com", subject="Undelivered Mail Returned to Sender",
                                  body="This is the mail system at host mx.example.com.")
    draft_generate(message_id=bounce.pk)
    [message] = agent.get(f"/api/conversations/{bounce.conversation_id}/").json()["messages"]
    assert (message["triage_label"], message["triage_reason"]) == (
        "bounce", "Returned mail: the mail system reports that an email could not be delivered")
