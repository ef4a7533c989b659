"""The database itself keeps the data right: unique external ids and valid enums."""

import pytest
from django.db import IntegrityError, transaction

from catalog.models import InventoryItem
from conversations.models import Conversation, Draft, Message
from customers.models import Customer, Order
from omnichannel.models import WebhookDelivery
from tests.builders import make_draft, make_inbound_message

pytestmark = pytest.mark.django_db


def _refused(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_duplicate_external_ids_are_refused_by_the_database():
    message = make_inbound_message()
    _refused(lambda: Message.objects.create(conversation=message.conversation, direction="inbound",
                                            external_msg_id=message.external_msg_id, sent_at=message.sent_at))
    conversation = message.conversation
    _refused(lambda: Conversation.objects.create(channel="email", external_thread_id=conversation.external_thread_id))
    Customer.objects.create(shopify_id="207119551", email="bob@example.com")
    _refused(lambda: Customer.objects.create(shopify_id="207119551", email="other@example.com"))
    _refused(lambda: Customer.objects.create(email="BOB@example.com"))  # case-insensitive email
    Order.objects.create(shopify_id="450789469")
    _refused(lambda: Order.objects.create(shopify_id="450789469"))
    InventoryItem.objects.create(sku="IPOD2008PINK")
    _refused(lambda: InventoryItem.objects.create(sku="IPOD2008PINK"))
    WebhookDelivery.objects.create(source="shopify", external_id="b54557e4", body=b"{}")
    _refused(lambda: WebhookDelivery.objects.create(source="shopify", external_id="b54557e4", body=b"{}"))


def test_two_threads_without_external_id_are_allowed():
    Conversation.objects.create(channel="chat")
    Conversation.objects.create(channel="chat")
    assert Conversation.objects.filter(external_thread_id="").count() == 2


def test_enums_and_quantities_are_checked_by_the_database():
    _refused(lambda: InventoryItem.objects.create(sku="NEG", quantity_available=-1))
    _refused(lambda: Order.objects.create(shopify_id="1", status="lost_in_space"))
    draft = make_draft()
    _refused(lambda: Draft.objects.filter(pk=draft.pk).update(confidence=1.5))
    _refused(lambda: Draft.objects.filter(pk=draft.pk).update(status="maybe"))


def test_a_conversation_has_at_most_one_pending_draft():
    draft = make_draft()
    _refused(lambda: Draft.objects.create(conversation=draft.conversation, body="second", confidence=0.5))
