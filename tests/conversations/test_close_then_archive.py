"""The end of a conversation as an agent lives it: the customer's "thanks!" needs no reply, the agent
closes it from the review page, and the retention run (`archive_conversations --execute`) archives
it once it is past RETENTION_MONTHS. Nothing sets "closed" by hand: the admin's close is the service.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from conversations.models import Conversation, Draft, Message
from omnichannel.models import AuditLog
from tests.builders import make_draft, make_inbound_message, make_staff

pytestmark = pytest.mark.django_db


def test_an_agent_closes_a_thanks_email_and_the_retention_run_archives_it(
    client, settings, django_capture_on_commit_callbacks
):
    agent = make_staff("Agents", "grace")
    client.force_login(agent)
    draft = make_draft(message=make_inbound_message(email="ada@example.com", body="Got it, thanks a lot! Ada"))
    response = client.post(f"/admin/conversations/draft/{draft.pk}/close/")
    assert response.status_code == 302
    conversation = Conversation.objects.get(pk=draft.conversation_id)
    assert conversation.status == Conversation.Status.CLOSED
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.SUPERSEDED  # it left the queue
    assert AuditLog.objects.filter(
        event_type="conversation.closed", object_id=str(conversation.pk), actor_user=agent
    ).exists()

    out = StringIO()
    call_command("archive_conversations", stdout=out)  # inside retention: a dry run lists nothing
    assert "0 conversation(s) due" in out.getvalue()
    settings.RETENTION_MONTHS = 0  # the retention period has passed
    with django_capture_on_commit_callbacks(execute=True):
        call_command("archive_conversations", "--execute", stdout=out)
    conversation.refresh_from_db()
    assert conversation.is_archived and conversation.archive_blob_key
    assert not Message.objects.filter(conversation=conversation, from_address="ada@example.com").exists()
