"""Rows the admin only shows: Shopify's stock (mirrored; a hand edit would be quoted in drafts until the next
webhook overwrote it) and the FAQ page publications (records of what went to the shop). Not even a
superuser, who holds every permission, can add, change or delete them there."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from catalog.models import InventoryItem
from faq.models import FaqPublication

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser(username="shop-owner", password="pw",
                                                                  email="owner@demo-shop.example"))
    return client


def test_stock_mirrored_from_shopify_cannot_be_edited_in_the_admin(owner):
    item = InventoryItem.objects.create(sku="TENT-2P", title="Trail tent, 2 person", quantity_available=3)
    page = owner.get(f"/admin/catalog/inventoryitem/{item.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content

    owner.post(f"/admin/catalog/inventoryitem/{item.pk}/change/",
               {"sku": "TENT-2P", "title": "Trail tent, 2 person", "quantity_available": "500",
                "lead_time_days": "0", "price_cents": "0"})
    assert owner.get("/admin/catalog/inventoryitem/add/").status_code == 403
    owner.post("/admin/catalog/inventoryitem/", {"action": "delete_selected", "_selected_action": [item.pk],
                                                 "post": "yes"})
    item.refresh_from_db()
    assert item.quantity_available == 3


def test_faq_publications_are_records_nobody_adds_or_deletes_by_hand(owner):
    assert owner.get("/admin/faq/faqpublication/add/").status_code == 403
    assert owner.get("/admin/faq/faqpublication/").status_code == 200
    assert FaqPublication.objects.count() == 0
