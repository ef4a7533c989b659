import pytest
from django.apps import apps
from django.core.management import call_command

pytestmark = pytest.mark.django_db

COUNTED = ["customers.Customer", "customers.Order", "catalog.InventoryItem", "conversations.Conversation",
           "conversations.Message", "faq.FaqEntry", "faq.Correction", "assistants.StyleProfile", "auth.User"]


def _counts():
    return {label: apps.get_model(label).objects.count() for label in COUNTED}


def test_seed_demo_twice_gives_the_same_row_counts(capsys):
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first
    assert first["customers.Customer"] >= 6
    assert first["conversations.Conversation"] == 7
    assert "agent" in capsys.readouterr().out


def test_the_demo_shop_has_orders_in_every_state_and_a_guest_checkout():
    from customers.models import Order

    call_command("seed_demo")
    statuses = set(Order.objects.values_list("status", flat=True))
    assert statuses == {choice for choice, _ in Order.Status.choices}
    guest = Order.objects.filter(customer__isnull=True)
    assert guest.exists() and all(order.email for order in guest)


def test_a_follow_up_joins_its_thread_by_in_reply_to():
    from conversations.models import Conversation

    call_command("seed_demo")
    thread = Conversation.objects.get(external_thread_id="demo-thread-6")
    assert thread.messages.count() == 3
    assert thread.unread_count == 2  # the two inbound messages; the outbound reply is not unread
