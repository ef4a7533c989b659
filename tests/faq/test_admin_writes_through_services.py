"""Every admin write of the faq, catalog and assistants apps goes through the owning service, with its
audit row and side effects, exactly as the API's do (issue "The house in order", item 1)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from assistants.models import StyleProfile
from catalog.models import ProductRequest
from conversations.models import Draft
from faq.models import Correction, FaqEntry, FaqPublication
from faq.services import correction_upsert, faq_entry_create, faq_entry_publish
from omnichannel.models import AuditLog
from tests.builders import make_draft, make_inbound_message
from tests.integrations.shopify.conftest import fake_shop  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(client):
    user = get_user_model().objects.create_user(username="ops-admin", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Ops"))
    client.force_login(get_user_model().objects.get(pk=user.pk))
    return user


def _events(event_type: str) -> list[AuditLog]:
    return list(AuditLog.objects.filter(event_type=event_type).order_by("id"))


# --- corrections ---------------------------------------------------------------------------------------

CORRECTION = {"key": "kayak-partner", "pattern": "kayak", "answer": "We partner with Sea Eagle for kayaks.",
              "sources": "", "is_active": "on", "last_verified": ""}


def test_adding_a_correction_with_the_sources_left_empty_saves_it_audits_and_redrafts_what_it_touches(
        client, ops, django_capture_on_commit_callbacks):
    pending = make_draft(intent="general", body="Let me check.",
                         message=make_inbound_message(email="k@example.com", subject="Kayaks", body="Do you sell kayaks?"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/faq/correction/add/", CORRECTION)
    assert response.status_code == 302  # it answered 500: null value in column "sources"
    correction = Correction.objects.get(key="kayak-partner")
    assert correction.sources == []
    [created] = _events("correction.created")
    assert created.actor_user_id == ops.pk and created.object_id == str(correction.pk)
    pending.refresh_from_db()
    assert pending.status == Draft.Status.SUPERSEDED  # apply_corrections ran, as after the API's write
    redrafted = Draft.objects.get(reply_to_id=pending.reply_to_id, status=Draft.Status.PENDING)
    assert "Sea Eagle" in redrafted.body


def test_malformed_sources_are_a_form_error_not_a_500(client, ops):
    response = client.post("/admin/faq/correction/add/", {**CORRECTION, "sources": '{"a": 1}'})
    assert response.status_code == 200 and "a list" in response.content.decode()
    assert not Correction.objects.exists()


def test_changing_a_correction_in_the_admin_audits_it_and_queues_apply_corrections(
        client, ops, django_capture_on_commit_callbacks):
    correction, _ = correction_upsert(key="kayak-partner", pattern="kayak", answer="Ask us about kayaks.")
    pending = make_draft(intent="general", body="x", message=make_inbound_message(
        email="k2@example.com", subject="Kayak", body="Any kayak deals?"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/faq/correction/{correction.pk}/change/", {
            **CORRECTION, "answer": "We partner with Sea Eagle: ask us for a 10% code.", "sources": '["ops note"]'})
    assert response.status_code == 302
    correction.refresh_from_db()
    assert correction.sources == ["ops note"] and "10% code" in correction.answer
    assert [e.actor_user_id for e in _events("correction.updated")] == [ops.pk]
    assert "10% code" in Draft.objects.get(reply_to_id=pending.reply_to_id, status=Draft.Status.PENDING).body


def test_deleting_a_correction_in_the_admin_audits_it_and_redrafts_the_drafts_that_used_it(
        client, ops, django_capture_on_commit_callbacks):
    from assistants.services import draft_generate

    correction, _ = correction_upsert(key="kayak-partner", pattern="kayak", answer="We partner with Sea Eagle.")
    message = make_inbound_message(email="k3@example.com", subject="Kayak", body="Do you sell kayaks?")
    used = draft_generate(message_id=message.pk).draft
    assert used.corrections_applied.filter(pk=correction.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/faq/correction/{correction.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Correction.objects.exists()
    [deleted] = _events("correction.deleted")
    assert deleted.actor_user_id == ops.pk and deleted.payload["key"] == "kayak-partner"
    redrafted = Draft.objects.get(reply_to=message, status=Draft.Status.PENDING)
    assert redrafted.pk != used.pk and "Sea Eagle" not in redrafted.body  # no longer says the deleted fact


# --- FAQ entries ---------------------------------------------------------------------------------------

def test_creating_an_faq_entry_in_the_admin_goes_through_the_service(client, ops, fake_shop,  # noqa: F811
                                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/faq/faqentry/add/", {
            "question": "Do you offer gift cards?", "answer": "Yes, from 10 to 200 dollars.", "status": "published",
            "source_intent": "general", "position": 0})
    assert response.status_code == 302
    entry = FaqEntry.objects.get()
    assert entry.status == "published" and entry.created_by_id == ops.pk
    assert [e.object_id for e in _events("faq.created")] == [str(entry.pk)]
    assert [e.object_id for e in _events("faq.published")] == [str(entry.pk)]
    assert "Do you offer gift cards?" in fake_shop.resources["pages"][0]["body_html"]


def test_creating_an_entry_holding_a_customers_facts_is_refused_and_nothing_is_saved(client, ops):
    from integrations.demo import seed_demo

    seed_demo()
    client.force_login(ops)  # seed_demo resets the demo accounts, not this one: the session stays valid
    response = client.post("/admin/faq/faqentry/add/", {
        "question": "Where is my parcel?", "answer": "Order #1004 left with USPS 9400111899223197428490.",
        "status": "published", "source_intent": "", "position": 0})
    assert response.status_code == 200 and "customer data" in response.content.decode()
    assert not FaqEntry.objects.filter(question="Where is my parcel?").exists()


@pytest.mark.parametrize("how", ["delete page", "delete action"])
def test_deleting_a_published_entry_rebuilds_the_shop_page(client, ops, fake_shop, how,  # noqa: F811
                                                           django_capture_on_commit_callbacks):
    keep = faq_entry_create(question="Where are you based?", answer="Our shop and warehouse are in Manchester.")
    gone = faq_entry_create(question="Do you offer gift cards?", answer="Yes, from 10 to 200 dollars.")
    with django_capture_on_commit_callbacks(execute=True):
        faq_entry_publish(entry_id=keep.pk)
        faq_entry_publish(entry_id=gone.pk)
    assert "gift cards" in fake_shop.resources["pages"][0]["body_html"]
    with django_capture_on_commit_callbacks(execute=True):
        if how == "delete page":
            response = client.post(f"/admin/faq/faqentry/{gone.pk}/delete/", {"post": "yes"})
        else:
            response = client.post("/admin/faq/faqentry/", {"action": "delete_selected", "post": "yes",
                                                            "_selected_action": [gone.pk]})
    assert response.status_code == 302 and not FaqEntry.objects.filter(pk=gone.pk).exists()
    body = fake_shop.resources["pages"][0]["body_html"]
    assert "gift cards" not in body and "Where are you based?" in body
    assert [e.object_id for e in _events("faq.deleted")] == [str(gone.pk)]
    assert FaqPublication.objects.count() == 2


# --- product requests ----------------------------------------------------------------------------------

def test_product_requests_are_added_changed_and_deleted_through_the_service(client, ops):
    response = client.post("/admin/catalog/productrequest/add/", {
        "description": "A customer on the phone asked: do you sell inflatable kayaks?", "normalized": "",
        "count": 1, "requested_at_0": "2026-11-02", "requested_at_1": "10:00:00", "customer": "", "conversation": ""})
    assert response.status_code == 302, response.content.decode()[:3000]
    request = ProductRequest.objects.get()
    assert request.normalized == "inflatable kayak"  # normalized as the mail's requests are
    [created] = _events("demand.request_created")
    assert created.actor_user_id == ops.pk

    response = client.post(f"/admin/catalog/productrequest/{request.pk}/change/", {
        "description": request.description, "normalized": "kayak", "count": 3,
        "requested_at_0": "2026-11-02", "requested_at_1": "10:00:00", "customer": "", "conversation": ""})
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.normalized, request.count) == ("kayak", 3)
    assert _events("demand.request_edited")[0].payload["fields"] == ["normalized", "count"]

    response = client.post(f"/admin/catalog/productrequest/{request.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not ProductRequest.objects.exists()
    assert _events("demand.request_deleted")[0].payload["normalized"] == "kayak"


# --- style profiles ------------------------------------------------------------------------------------

def test_style_profiles_are_saved_and_deleted_through_the_service_and_a_bad_tone_config_is_a_form_error(
        client, ops):
    fields = {"name": "Brand voice", "owner_user": "", "is_brand_default": "on",
              "tone_config": '{"greeting": "Hello {first_name},", "sign_off": "Cheers,\\nDemo Shop"}'}
    assert client.post("/admin/assistants/styleprofile/add/", fields).status_code == 302
    profile = StyleProfile.objects.get()
    assert profile.tone_config["greeting"] == "Hello {first_name},"
    assert _events("style_profile.created")[0].actor_user_id == ops.pk

    refused = client.post(f"/admin/assistants/styleprofile/{profile.pk}/change/", {
        **fields, "tone_config": '{"banned_phrases": "not a list"}'})
    assert refused.status_code == 200 and "banned_phrases" in refused.content.decode()
    changed = client.post(f"/admin/assistants/styleprofile/{profile.pk}/change/", {
        **fields, "tone_config": '{"greeting": "Hi {first_name},", "banned_phrases": ["no worries"]}'})
    assert changed.status_code == 302
    profile.refresh_from_db()
    assert profile.tone_config["banned_phrases"] == ["no worries"]
    assert _events("style_profile.edited")[0].payload["fields"] == ["tone_config"]

    assert client.post(f"/admin/assistants/styleprofile/{profile.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not StyleProfile.objects.exists() and _events("style_profile.deleted")


def test_a_second_brand_default_is_a_form_error_not_a_500(client, ops):
    StyleProfile.objects.create(name="Default", is_brand_default=True, tone_config={})
    response = client.post("/admin/assistants/styleprofile/add/", {
        "name": "Another", "owner_user": "", "is_brand_default": "on", "tone_config": "{}"})
    assert response.status_code == 200
    assert StyleProfile.objects.count() == 1
