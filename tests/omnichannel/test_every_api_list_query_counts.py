"""Every list of the API runs a fixed number of queries, whatever the number of rows.

The lists are read from the API's router (omnichannel/api_urls.py): each viewset's list route, and each
extra GET route on the collection, so a new one is asked too (and fails until tests/list_rows.py can
build its rows, or it is named in NOT_ROW_LISTS with the reason). Each list is asked with a token of a
superuser and of each role (Agents, Ops) allowed to view the model, over 2 rows and over 12: the two
counts must be equal and equal to the count pinned here, so a change shows in review. A token request
starts with 1 query (the token with its user); the list's own queries follow (the conversations' are 2:
the page, then their messages in one prefetch).
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import api_token_create
from omnichannel.api_urls import router
from omnichannel.roles import AGENTS, OPS
from tests.builders import token_client
from tests.list_rows import assert_fixed_queries

pytestmark = pytest.mark.django_db

# route name -> {who asks: queries, with 2 rows and with 12 alike}
EXPECTED: dict[str, dict[str, int]] = {
    "approval-list": {"superuser": 2, AGENTS: 2, OPS: 2},
    "auditlog-list": {"superuser": 2, OPS: 2},
    "conversation-list": {"superuser": 3, AGENTS: 3, OPS: 3},
    "correction-list": {"superuser": 2, AGENTS: 2, OPS: 2},
    "customer-list": {"superuser": 2, AGENTS: 2, OPS: 2},
    "draft-list": {"superuser": 2, AGENTS: 2, OPS: 2},
    "faqentry-list": {"superuser": 2, AGENTS: 2, OPS: 2},
    "faqproposal-list": {"superuser": 2, AGENTS: 2, OPS: 2},
    "inventoryitem-list": {"superuser": 2, AGENTS: 2, OPS: 2},
    "modelrun-list": {"superuser": 2, AGENTS: 2, OPS: 2},
    "order-list": {"superuser": 2, AGENTS: 2, OPS: 2},
    "productrequest-list": {"superuser": 2, AGENTS: 2, OPS: 2},
    "sitedocument-list": {"superuser": 2, OPS: 2},
}

# GET routes on a collection that list no rows of their model, and why they are not counted here.
NOT_ROW_LISTS = {
    "correction-candidates": "repeated edits found in the approvals, not rows of a model; the drafts each would "
                             "change are read in one query for all of them (drafts_it_would_change_each, counted "
                             "in tests/faq/test_correction_accept.py)",
}

LISTS = {f"{basename}-list": viewset.queryset.model._meta.label for _, viewset, basename in router.registry}
EXTRA_GET_ROUTES = sorted(
    f"{basename}-{action.url_name}" for _, viewset, basename in router.registry
    for action in viewset.get_extra_actions() if not action.detail and "get" in action.mapping
)


def _clients(label: str) -> dict[str, APIClient]:
    app_label, model = label.lower().split(".")
    root = get_user_model().objects.create_superuser(username="root", email="root@demo-shop.example")
    clients = {"superuser": APIClient()}
    clients["superuser"].credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=root)[1]}")
    for group in (AGENTS, OPS):
        client, user = token_client(group, group.lower())
        if user.has_perm(f"{app_label}.view_{model}"):
            clients[group] = client
    return clients


def _ask(client: APIClient, url: str) -> tuple[int, int]:
    """(queries, rows listed) of a second GET (the first warms the token's permission cache)."""
    assert client.get(url).status_code == 200, url
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    body = response.json()
    return len(captured), len(body["results"] if isinstance(body, dict) else body)


@pytest.mark.parametrize("route", sorted(LISTS))
def test_every_api_list_runs_a_fixed_number_of_queries_for_a_few_rows_and_for_many(route):
    label = LISTS[route]
    clients = _clients(label)
    assert_fixed_queries(route, label, clients, reverse(route), _ask, EXPECTED)


def test_every_list_route_is_pinned_or_named_as_no_row_list():
    assert sorted(EXPECTED) == sorted(LISTS)
    assert EXTRA_GET_ROUTES == sorted(NOT_ROW_LISTS), "a new GET route on a collection: count its queries here"
