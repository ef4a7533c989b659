"""An HTML email's frame is about as tall as the email: a two-line email does not push the draft out of
view, a long one gets room (up to a cap; the agent drags it taller). The frame runs no script, so
the page cannot measure it: the height comes from the email's lines."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from conversations.services.drafts import draft_create
from conversations.services.threads import MessageFacts, message_ingest
from customers.services import customer_get_or_create_lead
from tests.builders import logged_in_client

pytestmark = pytest.mark.django_db


def _frame_height(client, body_html: str, n: int) -> int:
    customer, _ = customer_get_or_create_lead(email=f"h{n}@example.com", name="Ada")
    message, _ = message_ingest(
        facts=MessageFacts(
            channel="email",
            direction="inbound",
            external_msg_id=f"height-{n}",
            external_thread_id=f"height-{n}",
            from_address=f"h{n}@example.com",
            subject="Hello",
            body="",
            body_html=body_html,
            sent_at=timezone.now(),
        ),
        customer=customer,
        integration="test",
    )
    draft = draft_create(
        conversation_id=message.conversation_id, body="Hi", confidence=0.5, reply_to_id=message.pk, refresh=True
    )
    page = client.get(f"/admin/conversations/draft/{draft.pk}/change/").content.decode()
    [height] = re.findall(r'<iframe class="mail-frame"[^>]* style="height: (\d+)px"', page)
    return int(height)


def test_a_short_email_gets_a_short_frame_and_a_long_one_a_tall_capped_frame():
    client = logged_in_client("Agents", "grace")
    short = _frame_height(client, "<p>Hey! Do you sell <b>kayaks</b>?</p><p>Sam</p>", 1)
    table = _frame_height(client, "<p>Hi</p><table>" + "<tr><td>Tent</td><td>1</td></tr>" * 8 + "</table>", 2)
    long = _frame_height(client, ("<p>" + "A long story about my order. " * 10 + "</p>") * 30, 3)
    assert short <= 120
    assert short < table < long
    assert long == 480
