"""A long thread on the review page: the agent must see the email the draft answers.

Before: the page showed the thread's 200 oldest emails, so in a 205-email thread (a customer who
writes every day, a loop with an auto-responder) the newest ones, the one being answered included,
were not on the page at all, and nothing said so.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.models import Message
from tests.builders import logged_in_client, make_draft, make_inbound_message

pytestmark = pytest.mark.django_db


def test_the_newest_emails_of_a_long_thread_are_shown_and_the_page_says_earlier_ones_are_elsewhere():
    first = make_inbound_message(email="ada@example.com", subject="My parcel", body="Day 0: where is my parcel?",
                                 thread="ada-long")
    Message.objects.bulk_create([
        Message(conversation_id=first.conversation_id, direction="inbound", from_address="ada@example.com",
                subject="Re: My parcel", body=f"Day {day}: still no parcel.", sent_at=first.sent_at + timedelta(days=day))
        for day in range(1, 205)])
    last = make_inbound_message(email="ada@example.com", subject="Re: My parcel", thread="ada-long",
                                body="Day 205: I give up, please refund me.", sent_at=first.sent_at + timedelta(days=205))
    assert last.conversation_id == first.conversation_id
    draft = make_draft(message=last, body="Hello Ada, we are refunding you today.")

    page = logged_in_client("Agents", "grace").get(f"/admin/conversations/draft/{draft.pk}/change/").content.decode()

    assert "Day 205: I give up, please refund me." in page and "Day 204: still no parcel." in page
    assert "Day 0: where is my parcel?" not in page and "Day 5: still no parcel." not in page
    assert page.index("Day 6: still no parcel.") < page.index("Day 205: I give up")  # oldest first, as a thread reads
    assert 'id="earlier-hidden"' in page and f"/admin/conversations/conversation/{first.conversation_id}/change/" in page


def test_a_short_thread_says_nothing_about_hidden_emails():
    draft = make_draft()
    page = logged_in_client("Agents", "grace").get(f"/admin/conversations/draft/{draft.pk}/change/").content.decode()
    assert "Hi, where is my order #1001?" in page and 'id="earlier-hidden"' not in page
