"""An approved reply that Zoho never got reads "Not sent", not "Approved, sending".

Before: with Zoho unreachable the review page showed the badge "Approved, sending" above the red
"Not sent (1 attempt)" box, and the queue's status column said "Approved, sending" too: filtered by
status, a failed reply looked like one on its way.
"""

from __future__ import annotations

import pytest

from conversations.models import Draft
from tests.builders import logged_in_client, make_draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def zoho_down(settings):
    settings.ZOHO_MODE = "live"
    settings.ZOHO_BASE_URL = settings.ZOHO_ACCOUNTS_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.ZOHO_REFRESH_TOKEN = "refresh-zoho-down"
    settings.ZOHO_BACKOFF_SECONDS, settings.ZOHO_TIMEOUT_SECONDS, settings.ZOHO_MAX_ATTEMPTS = 0.01, 1.0, 1


def test_a_reply_zoho_never_got_reads_not_sent_on_the_review_page_and_in_the_queue(
        zoho_down, django_capture_on_commit_callbacks):
    draft = make_draft()
    client = logged_in_client("Agents", "grace")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/conversations/draft/{draft.pk}/decide/", {"action": "approve"})
    draft.refresh_from_db()
    assert draft.status == Draft.Status.APPROVED and draft.last_send_error and draft.sent_message_id is None

    page = client.get(f"/admin/conversations/draft/{draft.pk}/change/").content.decode()
    assert 'id="draft-status">Not sent: sending failed</span>' in page and 'id="resend"' in page
    queue = client.get("/admin/conversations/draft/?status__exact=approved").content.decode()
    rows = queue[queue.index('id="result_list"'):queue.index("</table>")]
    assert "Not sent: sending failed" in rows and "Approved, sending" not in rows, rows
