"""The review page as agents use it all day, in a real headless Chromium: at 1280 px, with the
mouse wandering into the customer's HTML email, keys pressed twice, Enter pressed in every field.

Each test's last screen is saved under test-artifacts/ (tests/browser.py).
"""

from __future__ import annotations

import os

import pytest
from django.utils import timezone

from conversations.models import Approval, Conversation, Draft
from conversations.services.drafts import draft_create
from conversations.services.threads import MessageFacts, message_ingest
from customers.services import customer_get_or_create_lead
from tests.browser import ARTIFACTS, CHROMIUM, login
from tests.builders import make_draft, make_inbound_message, make_staff

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"),
]

PASSWORD = "grace-pass-2026"


def _html_draft() -> Draft:
    customer, _ = customer_get_or_create_lead(email="ada@example.com", name="Ada")
    message, _ = message_ingest(
        facts=MessageFacts(
            channel="email",
            direction="inbound",
            external_msg_id="html-ws-1",
            external_thread_id="html-ws-1",
            from_address="ada@example.com",
            subject="Wrong item in my parcel",
            body="",
            body_html=(
                "<p>Hi, this arrived instead of my order:</p><table><tr><th>Item</th><th>Qty</th></tr>"
                "<tr><td>Camp stove</td><td>2</td></tr></table><p>Ada</p>"
                '<div class="gmail_quote">On Mon Shop wrote:<blockquote>Your order shipped</blockquote></div>'
            ),
            sent_at=timezone.now(),
        ),
        customer=customer,
        integration="test",
    )
    return draft_create(
        conversation_id=message.conversation_id, body="Sorry, Ada!", confidence=0.5, reply_to_id=message.pk, refresh=True
    )


def _focus_leaves_the_frame(page) -> bool:
    """Whether the page takes the keyboard back from the email's frame (within a bounded wait: the
    page gives it back in a task after the click; the CSP forbids wait_for_function's eval)."""
    for _ in range(40):
        if page.evaluate("() => document.activeElement.tagName") != "IFRAME":
            return True
        page.wait_for_timeout(50)
    return False


def _open(page, live_server, draft) -> None:
    page.goto(f"{live_server.url}/admin/conversations/draft/{draft.pk}/change/")
    page.wait_for_selector("#final_text")


def test_after_a_click_in_the_html_email_r_and_enter_still_reject_with_the_reason(page, live_server):
    draft = _html_draft()
    make_staff("Agents", "grace", password=PASSWORD)
    login(page, live_server, "grace", PASSWORD)
    _open(page, live_server, draft)
    frame = page.frame_locator("iframe.mail-frame")
    frame.locator("td").first.click()  # the agent clicks into the email to read it
    frame.locator("summary").click()  # and unfolds the quoted history: the click still reaches the email
    assert frame.locator("text=Your order shipped").is_visible()
    assert _focus_leaves_the_frame(page)
    page.keyboard.press("r")
    page.keyboard.type("She ordered a lamp, not a stove: check the order")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    [approval] = Approval.objects.filter(draft=draft)
    assert approval.action == Approval.Action.REJECT
    assert approval.reason == "She ordered a lamp, not a stove: check the order"


def test_the_review_page_fits_1280_pixels_with_no_app_sidebar(page, live_server):
    draft = make_draft(
        message=make_inbound_message(
            email="a.very.long.customer.address@subdomain.example-shop-customer.com",
            subject="Order 1003 never arrived and I need it before my trip on Saturday, please help " * 2,
            body="I ordered the four-person tent weeks ago (order no. 1003) and it still has not arrived. " * 6,
        )
    )
    make_staff("Agents", "grace", password=PASSWORD)
    login(page, live_server, "grace", PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 900})
    _open(page, live_server, draft)
    assert page.locator("#nav-sidebar").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # The decision and the customer sit side by side, each whole inside the window.
    decision, customer = page.locator("#decision").bounding_box(), page.locator("#customer").bounding_box()
    assert customer["x"] >= decision["x"] + decision["width"]
    assert customer["x"] + customer["width"] <= 1280
    assert page.locator("#approve").is_visible() and page.locator("#reject").is_visible()


def test_a_pressed_twice_in_one_go_approves_one_draft_and_never_the_next(page, live_server):
    first = make_draft(message=make_inbound_message(email="one@example.com", body="Where is order #1001?"))
    second = make_draft(message=make_inbound_message(email="two@example.com", body="Is the lamp in stock?"))
    make_staff("Agents", "grace", password=PASSWORD)
    login(page, live_server, "grace", PASSWORD)
    _open(page, live_server, first)
    page.click("#thread")
    with page.expect_navigation():
        # Two presses before the page can leave: the second must not decide anything.
        page.evaluate("""() => { for (let i = 0; i < 2; i++) document.getElementById("thread").dispatchEvent(
            new KeyboardEvent("keydown", {key: "a", bubbles: true, cancelable: true})); }""")
    page.wait_for_selector("#final_text")
    assert f"/draft/{second.pk}/change/" in page.url
    assert Approval.objects.filter(draft=first).count() == 1
    assert Draft.objects.get(pk=second.pk).status == Draft.Status.PENDING
    assert page.locator(".messagelist .error").count() == 0  # no "already approved" complaint either


def test_a_held_down_key_repeats_nothing(page, live_server):
    draft = make_draft()
    make_staff("Agents", "grace", password=PASSWORD)
    login(page, live_server, "grace", PASSWORD)
    _open(page, live_server, draft)
    page.click("#thread")
    # Auto-repeat of a key held since the last page (repeat=true): not a decision.
    page.evaluate("""() => document.getElementById("thread").dispatchEvent(
        new KeyboardEvent("keydown", {key: "a", repeat: true, bubbles: true, cancelable: true}))""")
    page.wait_for_timeout(300)
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.PENDING


def test_enter_in_the_reply_box_is_a_new_line_and_enter_twice_in_the_reason_rejects_once(page, live_server):
    draft = make_draft(body="Hello Ada,\nYour order shipped.")
    make_staff("Agents", "grace", password=PASSWORD)
    login(page, live_server, "grace", PASSWORD)
    _open(page, live_server, draft)
    page.click("#final_text")
    page.keyboard.press("End")
    page.keyboard.press("Enter")  # a new line in the reply, never a submit
    page.keyboard.type("Best, Grace")
    page.wait_for_timeout(300)
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.PENDING
    assert page.input_value("#final_text").endswith("\nBest, Grace")
    page.fill("#reason", "Wrong tone")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # a second press while the first is on its way
    page.wait_for_selector(".messagelist")
    page.wait_for_load_state()
    [approval] = Approval.objects.filter(draft=draft)
    assert approval.action == Approval.Action.REJECT and approval.reason == "Wrong tone"
    assert page.locator(".messagelist .error").count() == 0
    page.screenshot(path=str(ARTIFACTS / "reject-enter-twice.png"), full_page=True)


def test_e_typing_then_escape_then_a_approves_the_edit_with_its_diff(page, live_server):
    draft = make_draft(body="Hello Ada,\nYour order shipped.")
    make_staff("Agents", "grace", password=PASSWORD)
    login(page, live_server, "grace", PASSWORD)
    _open(page, live_server, draft)
    page.click("#thread")
    page.keyboard.press("e")  # into the reply box (the cursor at its start)
    page.keyboard.press("Control+End")
    page.keyboard.type("\nBest, Grace")
    page.keyboard.press("Escape")  # out of the box, the text kept: `a` is a shortcut again, not a letter
    with page.expect_navigation():
        page.keyboard.press("a")
    [approval] = Approval.objects.filter(draft=draft)
    assert approval.action == Approval.Action.EDIT
    assert approval.final_text == "Hello Ada,\nYour order shipped.\nBest, Grace"
    assert "+Best, Grace" in approval.diff


def test_closing_without_replying_asks_first_and_a_stray_click_changes_nothing(page, live_server):
    draft = make_draft(message=make_inbound_message(body="Got it, thanks a lot!"))
    make_staff("Agents", "grace", password=PASSWORD)
    login(page, live_server, "grace", PASSWORD)
    _open(page, live_server, draft)
    answers = iter([False, True])  # the stray click is dismissed; the meant one is confirmed
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.accept() if next(answers) else dialog.dismiss()

    page.on("dialog", answer)
    page.click("#close-conversation")
    page.wait_for_timeout(300)
    assert Conversation.objects.get(pk=draft.conversation_id).status == Conversation.Status.OPEN
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.PENDING
    with page.expect_navigation():
        page.click("#close-conversation")
    assert len(asked) == 2 and "without replying" in asked[0]
    assert Conversation.objects.get(pk=draft.conversation_id).status == Conversation.Status.CLOSED
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.SUPERSEDED
