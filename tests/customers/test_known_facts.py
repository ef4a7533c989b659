"""What we hold of every customer, for the scrubber: kept current without reading every row per call."""

from __future__ import annotations

import pytest

from customers.models import Customer
from customers.selectors import customer_known_facts, customers_known_facts
from customers.services import customer_get_or_create_lead
from integrations.demo import seed_demo
from omnichannel.pii_scrub import pii_scrub

pytestmark = pytest.mark.django_db


def test_a_customer_added_or_changed_after_a_read_is_known_at_the_next_one(django_assert_max_num_queries):
    seed_demo()
    assert pii_scrub("Bletchley Park", known=customers_known_facts()) == "[address]"
    with django_assert_max_num_queries(2):  # nothing changed: two aggregates, no rows read
        customers_known_facts()
    customer, _ = customer_get_or_create_lead(email="mary.somerville@example.org", name="Mary Somerville")
    Customer.objects.filter(pk=customer.pk).update(shipping_addresses=[{"address1": "Chelsea Old Church"}])
    customer.save(update_fields=["updated_at"])
    known = customers_known_facts()
    assert pii_scrub("Mary Somerville of Chelsea Old Church", known=known) == "[name] of [address]"
    assert pii_scrub("Bletchley Park", known=known) == "[address]"  # the others are still known


def test_an_erased_customer_is_forgotten():
    seed_demo()
    assert "[name]" in pii_scrub("Alan Turing", known=customers_known_facts())
    Customer.objects.filter(email="alan.turing@example.com").update(is_erased=True)
    assert pii_scrub("Alan Turing", known=customers_known_facts()) == "Alan Turing"


def test_one_customers_first_name_is_known_for_their_own_text_only():
    seed_demo()
    ada = Customer.objects.get(email="ada.lovelace@example.com")
    assert pii_scrub("Ada asked", known=customer_known_facts(customer_id=ada.pk)) == "[name] asked"
    assert pii_scrub("Ada asked", known=customers_known_facts()) == "Ada asked"
    assert pii_scrub("order #1001, UPS 1Z999AA10123456784", known=customer_known_facts(customer_id=ada.pk)) == (
        "order [order number], UPS [tracking number]")
