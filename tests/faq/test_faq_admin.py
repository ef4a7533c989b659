"""Publishing FAQ entries from the admin goes through the service and needs the publish permission."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from lxml import html as lxml_html

from faq.models import FaqEntry, FaqPublication
from faq.services import faq_entry_create
from omnichannel.models import AuditLog
from tests.integrations.shopify.conftest import fake_shop  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def _staff(name: str, *, publish: bool):
    """An Ops member, with or without the one permission that publishes."""
    user = get_user_model().objects.create_user(username=name, password="pw", is_staff=True)
    group, _ = Group.objects.get_or_create(name=f"faq-editors-{publish}")
    group.permissions.set(Group.objects.get(name="Ops").permissions.all())
    if not publish:
        group.permissions.remove(Permission.objects.get(codename="publish_faqentry"))
    user.groups.add(group)
    return get_user_model().objects.get(pk=user.pk)  # a fresh permission cache


def _entries():
    return [faq_entry_create(question="Do you offer gift cards?", answer="Yes, from 10 to 200 dollars."),
            faq_entry_create(question="Can I change my order?", answer="Within an hour of ordering, yes.")]


def test_publish_selected_calls_the_service_audits_and_rebuilds_the_shop_page(
        client, fake_shop, django_capture_on_commit_callbacks):  # noqa: F811
    entries = _entries()
    publisher = _staff("publisher", publish=True)
    client.force_login(publisher)
    assert "publish_selected" in client.get("/admin/faq/faqentry/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/faq/faqentry/", {"action": "publish_selected", "post": "yes",
                                                         "_selected_action": [e.pk for e in entries]}, follow=True)
    assert "Published 2 FAQ entries" in response.content.decode()
    assert set(FaqEntry.objects.values_list("status", flat=True)) == {"published"}
    audits = AuditLog.objects.filter(event_type="faq.published")
    assert sorted(int(a.object_id) for a in audits) == sorted(e.pk for e in entries)
    assert {a.actor_user_id for a in audits} == {publisher.pk}
    [page] = fake_shop.resources["pages"]  # rebuild_faq_page ran: one page, holding both entries
    assert "Do you offer gift cards?" in page["body_html"] and "Can I change my order?" in page["body_html"]
    assert FaqPublication.objects.count() == 1  # the second rebuild saw no change and made no Shopify call


def test_without_the_permission_the_action_is_refused_and_the_status_is_read_only(client):
    entry = _entries()[0]
    client.force_login(_staff("editor", publish=False))
    listing = client.get("/admin/faq/faqentry/").content.decode()
    assert "publish_selected" not in listing  # the action is not offered
    client.post("/admin/faq/faqentry/", {"action": "publish_selected", "post": "yes", "_selected_action": [entry.pk]})
    entry.refresh_from_db()
    assert entry.status == "draft"

    form = lxml_html.fromstring(client.get(f"/admin/faq/faqentry/{entry.pk}/change/").content)
    assert not form.xpath("//select[@name='status']")  # shown as text, not editable
    response = client.post(f"/admin/faq/faqentry/{entry.pk}/change/", {
        "question": "Do you offer gift cards?", "answer": "Yes, from 10 to 250 dollars.", "status": "published",
        "source_intent": "", "position": 0})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.answer == "Yes, from 10 to 250 dollars." and entry.status == "draft" and entry.published_at is None
    assert not AuditLog.objects.filter(event_type="faq.published").exists()


def test_a_status_change_in_the_form_goes_through_the_services(
        client, fake_shop, django_capture_on_commit_callbacks):  # noqa: F811
    entry = _entries()[0]
    client.force_login(_staff("publisher", publish=True))
    change = f"/admin/faq/faqentry/{entry.pk}/change/"
    fields = {"question": entry.question, "answer": entry.answer, "source_intent": "", "position": 0}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(change, {**fields, "status": "published"}).status_code == 302
    entry.refresh_from_db()
    assert entry.status == "published" and entry.published_at is not None
    assert AuditLog.objects.filter(event_type="faq.published", object_id=str(entry.pk)).count() == 1
    assert "Do you offer gift cards?" in fake_shop.resources["pages"][0]["body_html"]

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(change, {**fields, "status": "archived"}).status_code == 302
    entry.refresh_from_db()
    assert entry.status == "archived" and entry.published_at is None
    assert AuditLog.objects.filter(event_type="faq.unpublished", object_id=str(entry.pk)).count() == 1
    assert "Do you offer gift cards?" not in fake_shop.resources["pages"][0]["body_html"]  # taken off the shop


def test_editing_a_published_answer_rebuilds_the_shop_page_and_a_draft_edit_does_not(
        client, fake_shop, django_capture_on_commit_callbacks):  # noqa: F811
    published, draft = _entries()
    client.force_login(_staff("publisher", publish=True))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/faq/faqentry/{published.pk}/change/", {
            "question": published.question, "answer": published.answer, "status": "published",
            "source_intent": "", "position": 0})
    assert "from 10 to 200 dollars" in fake_shop.resources["pages"][0]["body_html"]
    calls = len(fake_shop.requests)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/faq/faqentry/{draft.pk}/change/", {
            "question": draft.question, "answer": "Within two hours of ordering.", "status": "draft",
            "source_intent": "", "position": 0})
    assert response.status_code == 302
    assert len(fake_shop.requests) == calls  # a draft is not on the page: nothing to push

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/faq/faqentry/{published.pk}/change/", {
            "question": published.question, "answer": "Yes, from 10 to 250 dollars.", "status": "published",
            "source_intent": "", "position": 0})
    assert response.status_code == 302
    body = fake_shop.resources["pages"][0]["body_html"]
    assert "from 10 to 250 dollars" in body and "from 10 to 200 dollars" not in body
    edited = AuditLog.objects.get(event_type="faq.edited", object_id=str(published.pk))
    assert edited.payload == {"fields": ["answer"]}
