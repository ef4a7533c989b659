""""Awaiting reply" lists the customer who has waited longest first, as the queue does.

Before: the filter ordered by the wait, but the admin's list applies its own order after the filters
(newest email first), so a conversation waiting two weeks sat at the bottom, under ones two hours old.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from conversations.services.threads import conversation_close
from tests.builders import logged_in_client, make_inbound_message, make_staff

pytestmark = pytest.mark.django_db


def test_awaiting_reply_puts_the_longest_wait_first_and_a_column_click_still_sorts():
    oldest = make_inbound_message(email="weeks@example.com", subject="Waiting two weeks",
                                  sent_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    newest = make_inbound_message(email="hours@example.com", subject="Waiting two hours",
                                  sent_at=datetime(2026, 12, 4, 9, 0, tzinfo=UTC))
    middle = make_inbound_message(email="days@example.com", subject="Waiting four days",
                                  sent_at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    closed = make_inbound_message(email="done@example.com", subject="Closed one")
    conversation_close(conversation_id=closed.conversation_id, acting_user=make_staff("Agents", "ada"))
    client = logged_in_client("Agents", "grace")

    def listed(url: str) -> list[int]:
        body = client.get(url).content.decode()
        return list(dict.fromkeys(int(pk) for pk in re.findall(r"/admin/conversations/conversation/(\d+)/change/", body)))

    ids = [oldest.conversation_id, middle.conversation_id, newest.conversation_id]
    assert listed("/admin/conversations/conversation/?awaiting=reply") == ids
    # The agent's own sort (the Subject column's header) still wins: A to Z.
    body = client.get("/admin/conversations/conversation/?awaiting=reply").content.decode()
    by_subject = re.search(r'column-subject">.*?<a href="(\?[^"]+)"', body, re.S).group(1).replace("&amp;", "&")
    assert listed(f"/admin/conversations/conversation/{by_subject}") == [
        middle.conversation_id, newest.conversation_id, oldest.conversation_id]
