"""customers/parts.py: every app above customers registered its part of a customer's erasure, of her
data export and of a guest's summary, in the declared order; a part missing fails loudly."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from assistants.erasure import assistants_erase_customer
from catalog.services_erasure import catalog_erase_customer, catalog_export_customer
from conversations.models import Message
from conversations.selectors import guest_open_drafts
from conversations.services.erasure import (
    conversations_erase_customer,
    conversations_export_customer,
    conversations_find_customer,
)
from customers import parts
from customers.models import Customer, DataRequest
from customers.services_data_requests import data_request_create, data_request_export
from customers.services_erasure import customer_erase
from faq.services_erasure import faq_erase_customer
from omnichannel.models import AuditLog
from tests.builders import make_inbound_message

pytestmark = pytest.mark.django_db


def test_every_app_registered_its_erasure_part_in_order():
    assert [(app, part.find, part.erase) for app, part in parts.erasure_parts()] == [
        ("conversations", conversations_find_customer, conversations_erase_customer),
        ("catalog", None, catalog_erase_customer),
        ("faq", None, faq_erase_customer),
        ("assistants", None, assistants_erase_customer),
    ]


def test_every_app_registered_its_export_part_in_order():
    assert parts.export_parts() == [("conversations", conversations_export_customer),
                                    ("catalog", catalog_export_customer)]


def test_the_guest_summary_reads_the_drafts_through_the_conversations_reader():
    assert parts._GUEST_OPEN_DRAFTS == [guest_open_drafts]


def test_a_part_under_a_name_the_sequence_does_not_know_is_refused():
    with pytest.raises(ImproperlyConfigured, match="'billing' has no place in the customer erasure"):
        parts.erasure_part_register("billing", erase=lambda erasure: {})
    with pytest.raises(ImproperlyConfigured, match="'faq' has no place in the customer data export"):
        parts.export_part_register("faq", lambda export: ({}, {}))


def test_an_erasure_missing_a_part_refuses_to_run_and_erases_nothing(monkeypatch):
    message = make_inbound_message(email="grace.hopper@example.org", subject="Please delete my data",
                                   body="Hi, I'd like you to delete everything you hold about me. Grace")
    monkeypatch.delitem(parts._ERASURE, "catalog")
    with pytest.raises(ImproperlyConfigured, match="no part from catalog"):
        customer_erase(email="Grace.Hopper@example.org")
    assert Customer.objects.get(email="grace.hopper@example.org").is_erased is False
    assert Message.objects.get(pk=message.pk).body.startswith("Hi, I'd like you to delete")
    assert not AuditLog.objects.filter(event_type="customer.erased").exists()


def test_an_export_missing_a_part_refuses_to_write_a_partial_document(monkeypatch, django_capture_on_commit_callbacks):
    make_inbound_message(email="grace.hopper@example.org", body="What do you store about me?")
    monkeypatch.delitem(parts._EXPORT, "conversations")
    with django_capture_on_commit_callbacks(execute=False):
        request, _ = data_request_create(external_id="9001", email="grace.hopper@example.org")
    with pytest.raises(ImproperlyConfigured, match="no part from conversations"):
        data_request_export(data_request_id=request.pk)
    request.refresh_from_db()
    assert request.status == DataRequest.Status.PENDING and request.blob_key == ""
