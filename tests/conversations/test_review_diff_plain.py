"""What the agent changed, as the review page shows it after an edit: their lines, not diff markup.

Before: the box opened with "--- draft", "+++ final" and "@@ -1,8 +1 @@", a programmer's notation
that agents read as part of the reply. The stored Approval keeps the unified diff unchanged.
"""

from __future__ import annotations

import re

import pytest

from conversations.models import Approval
from conversations.services.approvals import draft_approve_text
from tests.builders import logged_in_client, make_draft, make_staff

pytestmark = pytest.mark.django_db


def _diff_box(page: str) -> list[str]:
    box = re.search(r'<div class="diff" id="approval-diff">(.*?)</div>\s*\{?%?\s*(?:<h3|\n)', page, re.S)
    assert box, "no diff on the page"
    return [re.sub(r"<[^>]+>", "", line) for line in re.findall(r'<div class="diff-\w+">(.*?)</div>', box.group(1))]


def test_an_edit_shows_the_changed_lines_and_a_gap_marker_not_the_diff_markup():
    body = "Hello Ada,\n\nYour order #1001 shipped.\n\nline a\nline b\nline c\nline d\nline e\n\n-- \nDemo Shop"
    draft = make_draft(body=body)
    agent = make_staff("Agents", "grace")
    edited = body.replace("Hello Ada,", "Hi Ada,").replace("Demo Shop", "Grace, Demo Shop")
    draft_approve_text(draft_id=draft.pk, acting_user=agent, final_text=edited)
    assert Approval.objects.get(draft=draft).diff.startswith("--- draft\n+++ final\n@@ ")  # stored as it was

    client = logged_in_client("Agents", "ada-reader")
    lines = _diff_box(client.get(f"/admin/conversations/draft/{draft.pk}/change/").content.decode())

    assert "-Hello Ada," in lines and "+Hi Ada," in lines and "+Grace, Demo Shop" in lines
    assert " -- " in lines  # the signature's "-- " is kept: only the header before the first change goes
    assert not [line for line in lines if line.startswith(("@@", "+++", "--- draft"))], lines
    assert "…" in lines  # the unchanged middle is left out, and the page says so


def test_the_review_page_names_the_intent_as_the_queue_does_not_as_code():
    draft = make_draft(intent="order_status")
    page = logged_in_client("Agents", "intent-reader").get(f"/admin/conversations/draft/{draft.pk}/change/")
    badge = re.search(r'id="draft-intent">([^<]*)<', page.content.decode())
    assert badge and badge.group(1) == "order status"
