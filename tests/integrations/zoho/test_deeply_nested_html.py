"""Mail nested absurdly deep (a hostile sender, or a mail client that wraps each reply in another <div>):
its words still reach the agent and the drafter, and cleaning it no longer takes a worker for minutes
(nh3's time grows with the square of the nesting; libxml2 gives up past 255 levels and returned nothing)."""

from __future__ import annotations

import re

import pytest

from conversations.rendering import email_frame_document
from integrations.zoho.ingest import html_to_text
from omnichannel.html_depth import MAX_NESTING, html_nesting_capped


def _depth(html: str) -> int:
    depth = deepest = 0
    for closing, _name in re.findall(r"<(/?)(div|span|blockquote|table)\b[^>]*>", html):
        depth += -1 if closing else 1
        deepest = max(deepest, depth)
    return deepest


@pytest.mark.parametrize("levels", [300, 20_000])
def test_a_question_inside_thousands_of_nested_divs_is_still_read(levels):
    html = "<div>" * levels + "Hi, where is my order #1001? Thanks, Ada" + "</div>" * levels
    assert html_to_text(html) == "Hi, where is my order #1001? Thanks, Ada"
    assert "where is my order #1001?" in email_frame_document(html)


def test_quoted_replies_nested_deep_keep_their_text_and_order():
    reply = "<div>Thanks! One more thing: does it come in blue?<blockquote>"
    html = reply * 400 + "first message" + "</blockquote></div>" * 400
    text = html_to_text(html)
    assert text.startswith("Thanks! One more thing: does it come in blue?") and text.endswith("first message")
    assert _depth(html_nesting_capped(html)) <= MAX_NESTING


def test_ordinary_mail_is_left_exactly_as_it_came():
    newsletter = "<table>" + "<tr><td><div><p>Trail tent</p><img src='cid:x'><br></div></td></tr>" * 2000 + "</table>"
    nested_tables = "<table><tr><td>" * 40 + "deep but real" + "</td></tr></table>" * 40
    unclosed = "<p>one<p>two<li>three<li>four" * 200
    for html in (newsletter, nested_tables, unclosed):
        assert html_nesting_capped(html) == html
