"""The Shopify client and the backfill against the fake shop over real HTTP, on Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from django.core.management import call_command

from catalog.models import InventoryItem
from customers.models import Customer, Order
from integrations.http_retry import retry_after_seconds
from integrations.models import ShopifyCursor
from integrations.shopify.backfill import backfill_run
from integrations.shopify.client import ShopifyClient, ShopifyError
from tests.integrations.shopify.conftest import fixture

pytestmark = pytest.mark.django_db


def _many_orders(shop, n: int) -> None:
    for i in range(n):
        shop.resources["orders"].append({
            "id": 600000 + i, "name": f"#{5000 + i}", "email": f"buyer{i}@example.com", "financial_status": "paid",
            "fulfillment_status": None, "total_price": "10.00", "currency": "USD", "line_items": [],
            "created_at": "2026-11-10T10:00:00+00:00", "updated_at": f"2026-11-{10 + i % 10:02d}T10:00:{i % 60:02d}+00:00"})


def test_a_429_with_retry_after_is_waited_out(fake_shop):
    fake_shop.fail_next(429, times=2, retry_after=0.01)
    assert ShopifyClient.from_settings().order_get("5001")["name"] == "#1001"


def test_a_5xx_then_success(fake_shop):
    fake_shop.fail_next(503, times=1)
    assert ShopifyClient.from_settings().order_get("5001")


def test_a_4xx_is_permanent(fake_shop):
    with pytest.raises(ShopifyError) as raised:
        ShopifyClient.from_settings().order_get("999")
    assert raised.value.status == 404 and raised.value.permanent


def test_a_retry_after_http_date_is_waited_out(fake_shop, settings):
    # RFC 9110 allows an HTTP-date instead of seconds; it has whole-second precision, so the wait
    # is between 1 and 2 seconds here.
    settings.SHOPIFY_MAX_RETRY_AFTER_SECONDS = 5.0
    fake_shop.fail_next(429, retry_after=format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True))
    assert ShopifyClient.from_settings().order_get("5001")["name"] == "#1001"
    first, second = fake_shop.request_times("/orders/5001.json")
    assert 0.9 <= second - first < 3.0


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2015, 10, 21, 7, 27, 30, tzinfo=UTC)
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 30.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:00:00 GMT", now=now) == 0.0  # already past
    assert retry_after_seconds("2.0") == 2.0
    assert retry_after_seconds("soon") is None and retry_after_seconds("") is None


def test_a_nearly_full_call_bucket_is_paced_not_refused(fake_shop, settings):
    # The fake's bucket leaks one call per SHOPIFY_PACE_SECONDS and answers 429 when full; with a
    # single attempt, a client that did not slow down near the top would fail here.
    settings.SHOPIFY_PACE_SECONDS = 0.01
    settings.SHOPIFY_MAX_ATTEMPTS = 1
    fake_shop.leak_per_second = 100.0
    fake_shop.fill_bucket(39)
    client = ShopifyClient.from_settings()
    assert all(client.order_get("5001") for _ in range(3))
    assert len(fake_shop.request_times("/orders/5001.json")) == 3


def test_a_full_call_bucket_answers_429_and_is_waited_out(fake_shop, settings):
    settings.SHOPIFY_PACE_SECONDS = 0.0  # no pacing: run into the full bucket
    fake_shop.leak_per_second = 20.0
    fake_shop.fill_bucket(40)
    assert ShopifyClient.from_settings().order_get("5001")
    assert len(fake_shop.request_times("/orders/5001.json")) >= 2  # the first was refused


def test_graphql_waits_for_the_points_a_query_needs_instead_of_being_throttled(fake_shop, settings):
    # 400 points available, 1000 restored a second, each query costs 300: after the first query
    # 100 are left, so the client must wait (300 - 100) / 1000 = 0.2 s before the second.
    settings.SHOPIFY_MAX_RETRY_AFTER_SECONDS = 5.0
    settings.SHOPIFY_MAX_ATTEMPTS = 1  # a THROTTLED answer would fail the test
    fake_shop.throttle_graphql(available=400, restore_rate=1000, cost=300)
    client = ShopifyClient.from_settings()
    assert client.graphql("{ shop { name } }") == client.graphql("{ shop { name } }") == {"shop": {"name": "Demo Shop"}}
    first, second = fake_shop.request_times("/graphql.json")
    # The upper bound only tells the computed wait from the 5 s cap, with room for a loaded machine.
    assert 0.19 <= second - first < 4.0
    assert fake_shop.graphql_throttled_answers == 0


def test_graphql_throttled_is_retried_after_the_computed_wait(fake_shop, settings):
    settings.SHOPIFY_MAX_RETRY_AFTER_SECONDS = 5.0
    fake_shop.throttle_graphql(available=100, restore_rate=1000, cost=300)
    assert ShopifyClient.from_settings().graphql("{ shop { name } }") == {"shop": {"name": "Demo Shop"}}
    first, second = fake_shop.request_times("/graphql.json")
    assert 0.19 <= second - first < 4.0  # (300 - 100) / 1000, not the 5 s cap
    assert fake_shop.graphql_throttled_answers == 1


def test_graphql_throttled_then_success_using_a_real_throttled_answer(fake_shop):
    fake_shop.graphql_throttled = 2
    fake_shop.graphql_throttled_body = fixture("graphql__throttled.json")
    assert ShopifyClient.from_settings().graphql("{ shop { name } }") == {"shop": {"name": "Demo Shop"}}
    assert len([r for r in fake_shop.requests if r[1].endswith("graphql.json")]) == 3


def test_pagination_follows_the_link_header_across_pages(fake_shop):
    _many_orders(fake_shop, 600)
    pages = list(ShopifyClient.from_settings().paginate("orders.json", "orders", {"status": "any"}))
    assert [len(rows) for rows, _ in pages] == [250, 250, 110]
    assert len({row["id"] for rows, _ in pages for row in rows}) == 610


def test_the_backfill_loads_the_demo_shop_and_a_rerun_changes_nothing(fake_shop):
    reports = backfill_run()
    assert reports["customers"]["upserted"] == 6 and reports["orders"]["upserted"] == 10
    assert InventoryItem.objects.count() == 9 and Order.objects.filter(customer__isnull=True).count() == 2
    assert Order.objects.get(name="#1003").status == "backordered"  # boots size 42 are out of stock
    cursor = ShopifyCursor.objects.get(resource="orders")
    assert cursor.last_updated_at is not None and cursor.page_info == "" and cursor.last_run_status == "ok"
    again = backfill_run()
    assert {name: r["upserted"] for name, r in again.items()} == {"customers": 0, "inventory": 0, "orders": 0}
    assert Order.objects.count() == 10 and Customer.objects.count() == 6


def test_an_interrupted_backfill_resumes_without_gap_or_duplicate(fake_shop, settings):
    _many_orders(fake_shop, 600)
    settings.SHOPIFY_MAX_ATTEMPTS = 1
    client = ShopifyClient.from_settings()
    backfill_run(resources=["customers"], client=client)
    fake_shop.fail_request("/orders.json", nth=3, status=500)  # the shop fails the third page once
    with pytest.raises(ShopifyError):
        backfill_run(resources=["orders"], client=client)
    cursor = ShopifyCursor.objects.get(resource="orders")
    assert Order.objects.count() == 500 and "page_info" in cursor.page_info
    before = fake_shop.page_requests("orders")
    backfill_run(resources=["orders"], client=client)
    assert Order.objects.count() == 610
    assert fake_shop.page_requests("orders") - before == 1  # resumed at the third page, not from the start


def test_the_command_prints_a_table(fake_shop, capsys):
    call_command("shopify_backfill", "--resource", "customers")
    assert "customers" in capsys.readouterr().out


def test_the_page_api_creates_then_updates_one_page(fake_shop):
    client = ShopifyClient.from_settings()
    page = client.page_create(title="FAQ", body_html="<h1>FAQ</h1>", handle="faq")
    client.page_update(str(page["id"]), body_html="<h1>FAQ v2</h1>")
    assert client.page_get(str(page["id"]))["body_html"] == "<h1>FAQ v2</h1>"
    assert len(fake_shop.resources["pages"]) == 1
