"""The admin writes nothing past a service: conversations, the integrations' checkpoints and API tokens
are shown there and changed only by the actions that call their services (with an audit row), even for
a superuser (issue "The house in order", item 1)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from accounts.models import ApiToken
from accounts.services import api_token_create
from conversations.models import Conversation
from integrations.models import ShopifyCursor
from omnichannel.models import AuditLog
from tests.builders import make_inbound_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser(username="root", password="pw", email="root@example.com")
    client.force_login(user)
    client.user = user
    return client


def test_a_conversation_is_shown_but_never_saved_added_or_deleted_by_the_admin(admin_client):
    conversation = make_inbound_message(subject="Tent question").conversation
    change = f"/admin/conversations/conversation/{conversation.pk}/change/"
    page = admin_client.get(change)
    assert page.status_code == 200 and "Tent question" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()  # a read-only page
    response = admin_client.post(change, {"subject": "Edited by hand", "status": "closed", "channel": "email"})
    assert response.status_code == 403
    assert admin_client.get("/admin/conversations/conversation/add/").status_code == 403
    assert (
        admin_client.post(f"/admin/conversations/conversation/{conversation.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    conversation.refresh_from_db()
    assert conversation.subject == "Tent question" and conversation.status != Conversation.Status.CLOSED


def test_the_close_action_still_closes_through_the_service_with_its_audit_row(admin_client):
    conversation = make_inbound_message().conversation
    response = admin_client.post(
        "/admin/conversations/conversation/", {"action": "close_conversations", "_selected_action": [conversation.pk]}
    )
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.CLOSED
    closed = AuditLog.objects.get(event_type="conversation.closed")
    assert closed.actor_user_id == admin_client.user.pk


@pytest.mark.parametrize("model_path", ["shopifycursor", "zohosyncstate", "sitesnapshot"])
def test_the_integrations_checkpoints_cannot_be_added_in_the_admin(admin_client, model_path):
    assert admin_client.get(f"/admin/integrations/{model_path}/").status_code == 200
    assert admin_client.get(f"/admin/integrations/{model_path}/add/").status_code == 403


def test_a_shopify_cursor_is_not_moved_by_hand(admin_client):
    cursor = ShopifyCursor.objects.create(resource="orders", page_info="abc")
    change = f"/admin/integrations/shopifycursor/{cursor.pk}/change/"
    assert admin_client.post(change, {"resource": "orders", "page_info": ""}).status_code == 403
    assert admin_client.post(f"/admin/integrations/shopifycursor/{cursor.pk}/delete/", {"post": "yes"}).status_code == 403
    cursor.refresh_from_db()
    assert cursor.page_info == "abc"


def test_an_api_token_is_revoked_with_an_audit_row_never_deleted(admin_client):
    token, _ = api_token_create(user=admin_client.user, name="ci")
    changelist = admin_client.get("/admin/accounts/apitoken/").content.decode()
    assert 'value="revoke"' in changelist and 'value="delete_selected"' not in changelist
    assert admin_client.post(f"/admin/accounts/apitoken/{token.pk}/delete/", {"post": "yes"}).status_code == 403
    response = admin_client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and ApiToken.objects.filter(pk=token.pk).exists()
    assert AuditLog.objects.filter(event_type="api_token.revoked", object_id=str(token.pk)).count() == 1
