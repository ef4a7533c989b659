"""Many senders' facts in one batch are the facts each sender's own read gives (the FAQ refresh relies on it)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from customers.selectors import customer_known_facts, customers_known_facts_each
from integrations.demo import seed_demo

pytestmark = pytest.mark.django_db


def test_a_batch_of_senders_knows_what_each_single_read_knows_in_three_queries():
    seed_demo()
    ada = Customer.objects.get(email="ada.lovelace@example.com")
    senders = [
        (ada.pk, "ada.lovelace@example.com", "Ada"),  # a customer, by id
        (None, "Alan.Turing@example.com", "Alan T."),  # a customer, by email in another case
        (None, "guest.walker@example.net", "Walker"),  # a guest checkout: orders, no customer row
        (None, "nobody@example.org", ""),  # unknown
        (987654, "grace.hopper@example.com", ""),  # a stale id: found by email
    ]
    with CaptureQueriesContext(connection) as queries:
        each = customers_known_facts_each(senders=senders)
    assert len(queries) == 3
    for customer_id, email, name in senders:
        assert each[(customer_id, email, name)] == customer_known_facts(customer_id=customer_id, email=email,
                                                                        name=name), email
    assert "#1001" in each[senders[0]].order_numbers and each[senders[2]].tracking_numbers
