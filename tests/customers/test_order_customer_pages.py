"""Order and customer pages read like a shop's back office, not like a database."""

from __future__ import annotations

import pytest

from customers.models import Customer, Order
from tests.builders import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client):
    client.force_login(make_staff("Agents", "grace"))
    return client


def test_an_order_shows_items_totals_and_money_with_currency_and_no_raw_json(agent_client):
    customer = Customer.objects.create(email="ada@example.com", name="Ada Lovelace", shopify_id="11",
                                       lifetime_value_cents=48650, currency="EUR",
                                       shipping_addresses=[{"address1": "12 Analytical Way", "city": "London",
                                                            "zip": "N1 7AA", "country": "United Kingdom"}])
    order = Order.objects.create(
        shopify_id="5001", name="#1001", customer=customer, email="ada@example.com", currency="EUR",
        total_price_cents=34900, line_items=[{"sku": "TENT-4P", "title": "Ridgeline 4-person tent", "quantity": 1,
                                              "price_cents": 32900}],
        tracking=[{"company": "UPS", "number": "1Z999", "url": "javascript:alert(document.cookie)"},
                  {"company": "DHL", "number": "00340", "url": "https://www.dhl.com/track?n=00340"}])
    body = agent_client.get(f"/admin/customers/order/{order.pk}/change/").content.decode()
    assert "349.00 EUR" in body and "329.00 EUR" in body and "Ridgeline 4-person tent" in body
    assert "price_cents" not in body and "32900" not in body
    assert "javascript:" not in body and 'href="https://www.dhl.com/track?n=00340"' in body
    body = agent_client.get(f"/admin/customers/customer/{customer.pk}/change/").content.decode()
    assert "486.50 EUR" in body and "12 Analytical Way, N1 7AA London, United Kingdom" in body
    assert "address1" not in body
    # Mirrored from Shopify: read here, changed in the shop.
    assert agent_client.post(f"/admin/customers/order/{order.pk}/change/", {"name": "#9"}).status_code == 403
