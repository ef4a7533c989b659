"""A page of rows (50 or more) is upserted through COPY into a staging table and one INSERT … SELECT …
ON CONFLICT: the same rows, the same newer-only rule, and the same answers as the one-row path.
`__any` filters by one array parameter and finds what `__in` finds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from customers.models import Customer, Order
from customers.services import CustomerFacts, OrderFacts, customers_bulk_upsert, orders_bulk_upsert
from omnichannel import lookups  # noqa: F401 - registers `__any`
from omnichannel.upserts import COPY_MIN_ROWS, rows_upsert_newer

T1 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
T2 = T1 + timedelta(hours=1)
N = COPY_MIN_ROWS + 10


def _order(i: int, at: datetime, status: str = "paid") -> OrderFacts:
    return OrderFacts(
        shopify_id=str(7000 + i),
        name=f"#{i}",
        status=status,
        email=f"b{i}@example.com",
        line_items=[{"sku": f"S{i}", "quantity": 1, "quote": 'it\'s "x"\t\\ \n{}'}],
        total_price_cents=100 + i,
        source_updated_at=at,
    )


@pytest.mark.django_db
def test_a_page_through_copy_writes_every_row_and_only_newer_ones_over_held_rows():
    assert orders_bulk_upsert(facts_list=[_order(i, T1) for i in range(N)]) == {"upserted": N, "stale": 0}
    stored = Order.objects.get(shopify_id="7003")
    assert (stored.name, stored.status, stored.total_price_cents, stored.source_updated_at) == ("#3", "paid", 103, T1)
    # JSON with quotes, tabs, backslashes and newlines survives COPY's text format unchanged.
    assert stored.line_items == [{"sku": "S3", "quantity": 1, "quote": 'it\'s "x"\t\\ \n{}'}]
    assert stored.created_at is not None and stored.updated_at is not None

    # Half of the page is newer, half the same as held: only the newer half is written.
    page = [_order(i, T2, "fulfilled") if i % 2 else _order(i, T1, "refunded") for i in range(N)]
    assert orders_bulk_upsert(facts_list=page) == {"upserted": N // 2, "stale": N - N // 2}
    assert set(Order.objects.values_list("status", flat=True)) == {"paid", "fulfilled"}
    assert Order.objects.filter(status="fulfilled").count() == N // 2


@pytest.mark.django_db
def test_two_pages_in_one_transaction_do_not_see_each_others_staged_rows():
    def page(first: int, at: datetime) -> list[str]:
        return rows_upsert_newer(
            model=Customer,
            rows=[
                Customer(shopify_id=str(first + i), email=f"c{first + i}@example.com", source_updated_at=at)
                for i in range(N)
            ],
            unique_field="shopify_id",
            update_fields=["email", "source_updated_at"],
        )

    with transaction.atomic():
        assert sorted(page(100, T1)) == sorted(str(100 + i) for i in range(N))
        Customer.objects.filter(shopify_id__any=[str(100 + i) for i in range(N)]).delete()
        # The first page's rows, were they still staged, would come back here.
        assert sorted(page(500, T1)) == sorted(str(500 + i) for i in range(N))
    assert Customer.objects.count() == N


@pytest.mark.django_db(transaction=True)
def test_a_page_outside_a_transaction_is_written_too():
    # In autocommit the staged rows must survive until the INSERT … SELECT (ON COMMIT DELETE ROWS).
    result = customers_bulk_upsert(
        facts_list=[
            CustomerFacts(shopify_id=str(900 + i), email=f"e{i}@example.com", name="E", source_updated_at=T1)
            for i in range(N)
        ]
    )
    assert result == {"upserted": N, "stale": 0}
    assert Customer.objects.filter(shopify_id__any=[str(900 + i) for i in range(N)]).count() == N


@pytest.mark.django_db
def test_any_finds_what_in_finds_with_one_parameter():
    orders_bulk_upsert(facts_list=[_order(i, T1) for i in range(5)])
    wanted = ["7001", "7003", "7003", "nope", None]
    assert (
        sorted(Order.objects.filter(shopify_id__any=wanted).values_list("shopify_id", flat=True))
        == sorted(Order.objects.filter(shopify_id__in=wanted).values_list("shopify_id", flat=True))
        == ["7001", "7003"]
    )
    assert list(Order.objects.filter(shopify_id__any=[])) == []
    with CaptureQueriesContext(connection) as queries:
        list(Order.objects.filter(shopify_id__any=[str(7000 + i) for i in range(500)]))
    assert "= ANY(" in queries[0]["sql"] and " IN (" not in queries[0]["sql"]
