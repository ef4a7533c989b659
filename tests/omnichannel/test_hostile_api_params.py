"""A client rewriting the API's pagination parameters: the cursor is base64 anyone can edit and
page_size is free text. A clear 400 naming the parameter, never a 500 or a silently different page."""

from __future__ import annotations

import base64

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from accounts.services import api_token_create
from customers.services import customer_get_or_create_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    root = get_user_model().objects.create_superuser(username="root", email="root@demo-shop.example")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=root)[1]}")
    return client


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("forged", ["p=abc", "p='; DROP TABLE customers_customer;--", "p=1.5", "p=", "p=%00",
                                    "r=1&p=1e5", "p=" + "9" * 30, "o=-1"])
@pytest.mark.parametrize("resource", ["customers", "conversations", "audit_log"])
def test_a_forged_cursor_is_refused_400_naming_it(api, resource, forged):
    response = api.get(f"/api/{resource}/", {"cursor": _cursor(forged)})
    assert response.status_code == 400, response.content
    assert "not a cursor this API gave out" in response.json()["cursor"]


def test_a_cursor_that_is_not_base64_is_a_400_not_a_404(api):
    response = api.get("/api/customers/", {"cursor": "'; DROP TABLE x;--"})
    assert response.status_code == 400 and "cursor" in response.json()


@pytest.mark.parametrize("page_size", ["0", "-1", "abc", "501", "9" * 30, "1e2", "\u0661"])  # U+0661: an Arabic 1
def test_a_page_size_out_of_range_is_refused_400_naming_the_range(api, page_size):
    response = api.get("/api/customers/", {"page_size": page_size})
    assert response.status_code == 400, response.content
    assert response.json() == {"page_size": "must be a whole number from 1 to 500"}


def test_the_cursors_the_api_gives_out_still_walk_every_page(api):
    for n in range(3):
        customer_get_or_create_lead(email=f"walker{n}@example.com", name=f"Walker {n}")
    seen, url = [], "/api/customers/?page_size=1"
    while url:
        page = api.get(url).json()
        seen += [row["email"] for row in page["results"]]
        url = page["next"]
    assert seen == [f"walker{n}@example.com" for n in (2, 1, 0)]
