"""What the backfill's speed-ups must not cost: the customer summary is current when a backfill returns
(it is refreshed by the run, not per page), and the COPY staging table kept per connection survives
neither a rolled-back creation nor a failed page's rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from customers.models import Customer
from customers.selectors import customer_summary_get
from customers.services import CustomerFacts, customers_bulk_upsert
from customers.tasks import refresh_customer_summary
from integrations.shopify.backfill import backfill_run

pytestmark = pytest.mark.django_db(transaction=True)
T1 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def _camper_orders(shop, n: int) -> None:
    shop.resources["customers"].append({
        "id": 88001, "email": "June.Hiker@example.org", "first_name": "June", "last_name": "Hiker",
        "orders_count": n, "total_spent": "480.00", "currency": "EUR", "updated_at": "2026-11-01T08:00:00+00:00"})
    for i in range(n):
        shop.resources["orders"].append({
            "id": 880100 + i, "name": f"#T{700 + i}", "email": "june.hiker@example.org", "customer": {"id": 88001},
            "financial_status": "paid", "fulfillment_status": "fulfilled", "total_price": "80.00", "currency": "EUR",
            "line_items": [{"sku": "TENT-2P", "name": "Two-person tent", "quantity": 1, "price": "80.00"}],
            "created_at": "2026-11-01T09:00:00+00:00", "updated_at": f"2026-11-01T09:{i:02d}:00+00:00"})


def test_the_summary_shows_a_backfills_orders_when_it_returns_even_right_after_another_refresh(fake_shop):
    refresh_customer_summary()  # a refresh a moment ago: the debounce window is open, per-page ones would wait
    _camper_orders(fake_shop, 60)
    backfill_run(resources=["customers", "orders"])
    summary = customer_summary_get(email="june.hiker@example.org")
    assert summary is not None and summary.orders_count == 60 and summary.name == "June Hiker"
    assert summary.latest_orders and summary.latest_orders[0].name.startswith("#T7")


def _facts(first: int, n: int) -> list[CustomerFacts]:
    return [CustomerFacts(shopify_id=str(first + i), email=f"camper{first + i}@example.org", name="Camper",
                          source_updated_at=T1) for i in range(n)]


def test_a_rolled_back_page_leaves_neither_its_rows_nor_a_staging_table_the_next_page_counts_on():
    connection.close()  # a fresh connection: no staging table yet
    with pytest.raises(RuntimeError), transaction.atomic():
        assert customers_bulk_upsert(facts_list=_facts(41000, 60))["upserted"] == 60  # creates the staging table
        raise RuntimeError("the page failed after its upsert")
    # The creation was rolled back with the page: the next page must create it again, not assume it.
    assert customers_bulk_upsert(facts_list=_facts(42000, 60)) == {"upserted": 60, "stale": 0}
    with transaction.atomic():
        assert customers_bulk_upsert(facts_list=_facts(43000, 60))["upserted"] == 60  # the table, kept
        with pytest.raises(RuntimeError), transaction.atomic():
            customers_bulk_upsert(facts_list=_facts(44000, 60))
            raise RuntimeError("a nested step failed")
        # Nothing of the failed step is left staged to ride along with this one.
        assert customers_bulk_upsert(facts_list=_facts(45000, 60))["upserted"] == 60
    held = set(Customer.objects.values_list("shopify_id", flat=True))
    assert {str(41000 + i) for i in range(60)}.isdisjoint(held) and {str(44000 + i) for i in range(60)}.isdisjoint(held)
    assert {str(k + i) for k in (42000, 43000, 45000) for i in range(60)} <= held
