"""An agent's keyboard slips and a customer's hostile attachments, in a real headless Chromium.

Agents work by keyboard: `r`, type the reason, Enter. They edit, click elsewhere, press `a`.
They lose races. Customers (and attackers posing as customers) attach HTML named like photos.
"""

from __future__ import annotations

import base64
import os
import time

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from conversations.models import Approval, Draft
from conversations.services.approvals import draft_approve
from conversations.services.drafts import draft_create
from conversations.services.threads import MessageFacts, message_ingest
from customers.services import customer_get_or_create_lead
from omnichannel.blobstore import blob_put
from tests.browser import ARTIFACTS, CHROMIUM, login
from tests.builders import make_draft, make_inbound_message, make_staff

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


def _agent(name: str = "grace"):
    return make_staff("Agents", name, password="grace-pass-2026")


def _review(page, live_server, draft) -> None:
    page.goto(f"{live_server.url}/admin/conversations/draft/{draft.pk}/change/")
    page.wait_for_selector("#final_text")


def _reviewing_the_first_of_two(page, live_server):
    """Ada's draft open for review by the agent Grace, with Alan's pending behind it in the queue."""
    draft = make_draft(message=make_inbound_message(email="ada@example.com", body="Where is order #1001?"))
    make_draft(message=make_inbound_message(email="alan@example.com", body="Is the lamp in stock?"))
    _agent()
    login(page, live_server, "grace", "grace-pass-2026")
    _review(page, live_server, draft)
    return draft


def test_r_then_a_reason_then_enter_rejects_with_the_reason_and_approves_nothing(page, live_server):
    draft = make_draft(message=make_inbound_message(email="ada@example.com", body="Where is my parcel?"))
    _agent()
    login(page, live_server, "grace", "grace-pass-2026")
    _review(page, live_server, draft)
    page.click("#thread")  # not typing anywhere: the shortcuts are live
    page.keyboard.press("r")
    page.keyboard.type("Wrong order quoted, the customer has two")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    draft.refresh_from_db()
    assert draft.status == Draft.Status.REJECTED
    [approval] = Approval.objects.filter(draft=draft)
    assert approval.action == Approval.Action.REJECT and approval.reason == "Wrong order quoted, the customer has two"


def test_enter_in_an_empty_reason_neither_rejects_nor_approves(page, live_server):
    draft = make_draft()
    _agent()
    login(page, live_server, "grace", "grace-pass-2026")
    _review(page, live_server, draft)
    page.focus("#reason")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    draft.refresh_from_db()
    assert draft.status == Draft.Status.PENDING and not Approval.objects.filter(draft=draft).exists()


def test_a_reason_of_only_spaces_is_refused_in_the_page_and_the_edited_text_stays(page, live_server):
    """Spaces passed `required`, the server refused them, and the reload lost the agent's edits."""
    draft = make_draft()
    _agent()
    login(page, live_server, "grace", "grace-pass-2026")
    _review(page, live_server, draft)
    edited = page.input_value("#final_text") + "\nPS: your parcel left the warehouse this morning."
    page.fill("#final_text", edited)
    page.click("#thread")
    page.keyboard.press("r")
    page.keyboard.type("   ")
    posts = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request.url))
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('reason').validity.patternMismatch")
    page.click("#reject")
    assert page.evaluate("document.getElementById('reason').validationMessage") != ""
    assert posts == [] and page.input_value("#final_text") == edited
    draft.refresh_from_db()
    assert draft.status == Draft.Status.PENDING and not Approval.objects.filter(draft=draft).exists()


def test_edited_text_then_a_click_elsewhere_then_a_approves_the_edit_with_its_diff(page, live_server):
    draft = make_draft(body="Hello Ada,\nYour order #1001 shipped.\nBest,\nDemo Shop")
    _agent()
    login(page, live_server, "grace", "grace-pass-2026")
    _review(page, live_server, draft)
    assert page.inner_text("#approve").startswith("Approve as drafted")
    page.fill("#final_text", "Hello Ada,\nYour order #1001 shipped today with DHL.\nBest,\nDemo Shop")
    # What `a` sends is the edited text: the button no longer claims "as drafted".
    assert page.inner_text("#approve").startswith("Approve with your edits")
    page.click("#thread")  # the text box loses focus
    with page.expect_navigation():
        page.keyboard.press("a")
    [approval] = Approval.objects.filter(draft=draft)
    assert approval.action == Approval.Action.EDIT
    assert "+Your order #1001 shipped today with DHL." in approval.diff
    assert approval.final_text.endswith("Demo Shop") and "DHL" in approval.final_text


def test_leaving_with_unsaved_text_asks_first(page, live_server):
    draft = make_draft()
    _agent()
    login(page, live_server, "grace", "grace-pass-2026")
    _review(page, live_server, draft)
    page.fill("#final_text", "Half-written answer that must not vanish")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.click("text=Back to the queue")
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    assert page.input_value("#final_text") == "Half-written answer that must not vanish"


def test_leaving_with_an_own_reply_typed_asks_first_then_sending_it_does_not(page, live_server):
    draft = _reviewing_the_first_of_two(page, live_server)
    page.click("#write-own summary")
    page.fill("#own_text", "Hi Ada, I checked with the courier myself: it arrives on Friday. Grace")
    page.keyboard.press("Escape")  # out of the field: the shortcuts are live again
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.keyboard.press("n")  # on to the next draft: the typed reply would be lost
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'thread'")
    deadline = time.monotonic() + 5
    while not dialogs and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert dialogs == ["beforeunload"]
    assert f"/draft/{draft.pk}/change/" in page.url
    assert page.input_value("#own_text").startswith("Hi Ada, I checked with the courier myself")
    with page.expect_navigation():
        page.click("#send-own")  # sending it is not leaving it
    assert dialogs == ["beforeunload"]
    assert Approval.objects.filter(draft__conversation_id=draft.conversation_id,
                                   final_text__startswith="Hi Ada, I checked").count() == 1


def test_an_agent_who_loses_the_race_keeps_the_text_they_typed(page, live_server):
    draft = make_draft()
    _agent()
    rival = _agent("linus")
    login(page, live_server, "grace", "grace-pass-2026")
    _review(page, live_server, draft)
    page.fill("#final_text", "My careful rewrite, ten minutes of work")
    draft_approve(draft_id=draft.pk, acting_user=rival)  # another agent decides first
    page.click("#edit-approve")
    page.wait_for_selector("#lost-text")
    assert page.input_value("#your-text") == "My careful rewrite, ten minutes of work"
    assert "Approved as drafted by linus" in page.inner_text("#decision") or "by linus" in page.inner_text("#decision")
    assert Approval.objects.filter(draft=draft).count() == 1


# --- Attachments ---------------------------------------------------------------------------------

HTML_PHOTO = b"<html><body><script>fetch('/pwned-html?'+document.cookie)</script><img src=x onerror=\"fetch('/pwned-img')\">"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="fetch(\'/pwned-svg\')"><script>fetch("/pwned-svg2")</script></svg>'
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def _draft_with_attachments(files: list[tuple[str, bytes]]) -> Draft:
    customer, _ = customer_get_or_create_lead(email="mallory@example.net", name="Mallory")
    stored = [{"name": name, "blob_key": blob_put(data, prefix="attachments").key, "size": len(data)}
              for name, data in files]
    message, _ = message_ingest(facts=MessageFacts(
        channel="email", direction="inbound", external_msg_id="att-browser", external_thread_id="att-browser",
        from_address="mallory@example.net", subject="Damaged stove, photos attached", body="See the photos.",
        attachments=stored, sent_at=timezone.now()), customer=customer, integration="test")
    return draft_create(conversation_id=message.conversation_id, body="Sorry about the stove.", confidence=0.5,
                        reply_to_id=message.pk, refresh=True)


def test_a_script_in_an_attachment_never_runs_and_real_photos_and_pdfs_still_open(page, live_server):
    # A real JPEG, drawn by the browser itself, and the same JPEG with a page of script glued on.
    page.goto(f"{live_server.url}/healthz")
    data_url = page.evaluate("""() => { const c = document.createElement('canvas'); c.width = 40; c.height = 30;
        const g = c.getContext('2d'); g.fillStyle = '#c33'; g.fillRect(0, 0, 40, 30); return c.toDataURL('image/jpeg'); }""")
    jpeg = base64.b64decode(data_url.split(",", 1)[1])
    polyglot = jpeg + b"<html><script>fetch('/pwned-polyglot')</script></html>"
    draft = _draft_with_attachments([("damage-photo.jpg", HTML_PHOTO), ("logo.svg", SVG), ("photo2.jpg", polyglot),
                                     ("stove.jpg", jpeg), ("invoice.pdf", PDF)])
    _agent()
    login(page, live_server, "grace", "grace-pass-2026")
    pwned = []
    page.context.on("request", lambda request: "pwned" in request.url and pwned.append(request.url))
    _review(page, live_server, draft)
    links = page.locator("#thread a[href*='/attachment/']")
    assert links.count() == 5

    downloads = {}
    for index in range(5):
        with page.expect_download() as info:
            links.nth(index).click()  # what an agent does: a click is a download, never a page in our origin
        downloads[info.value.suggested_filename] = open(info.value.path(), "rb").read()
    assert downloads == {"damage-photo.jpg": HTML_PHOTO, "logo.svg": SVG, "photo2.jpg": polyglot,
                         "stove.jpg": jpeg, "invoice.pdf": PDF}

    # Even loaded as a frame in our own origin, the hostile files stay inert.
    for index in range(3):
        href = links.nth(index).get_attribute("href")
        page.evaluate("""(href) => { const f = document.createElement('iframe'); f.src = href;
            document.body.appendChild(f); }""", href)
    page.wait_for_timeout(1500)
    assert pwned == []

    # The real photo renders as an image and the PDF arrives as a PDF.
    photo_href, pdf_href = links.nth(3).get_attribute("href"), links.nth(4).get_attribute("href")
    width = page.evaluate("""(href) => new Promise(done => { const i = new Image(); i.onload = () => done(i.naturalWidth);
        i.onerror = () => done(-1); i.src = href; })""", photo_href)
    assert width == 40
    pdf_type = page.evaluate("(href) => fetch(href).then(r => r.headers.get('content-type'))", pdf_href)
    assert pdf_type == "application/pdf"
    page.screenshot(path=str(ARTIFACTS / "review-attachments.png"), full_page=True)
    assert pwned == []


def test_a_then_u_takes_the_approval_back_before_anything_is_sent(page, live_server, settings):
    settings.SEND_UNDO_SECONDS = 20
    first = make_draft(message=make_inbound_message(email="ada@example.com", body="Where is order #1001?"))
    second = make_draft(message=make_inbound_message(email="alan@example.com", body="Is the lamp in stock?"))
    _agent()
    login(page, live_server, "grace", "grace-pass-2026")
    _review(page, live_server, first)
    page.click("#thread")
    with page.expect_navigation():
        page.keyboard.press("a")
    assert f"/draft/{second.pk}/change/" in page.url  # on to the next draft, with the offer to undo
    page.wait_for_selector("#undo")
    page.screenshot(path=str(ARTIFACTS / "undo-offer.png"), full_page=True)
    page.click("#thread")
    with page.expect_navigation():
        page.keyboard.press("u")
    first.refresh_from_db()
    assert first.status == Draft.Status.UNDONE and first.sent_message_id is None
    back = Draft.objects.get(replaces=first)
    assert back.status == Draft.Status.PENDING and f"/draft/{back.pk}/change/" in page.url
    assert "back in review" in page.content()


def test_the_queue_fits_1280_pixels_and_shows_who_is_reviewing(page, live_server):
    drafts = [make_draft(message=make_inbound_message(
        email=f"a.very.long.customer.address.{i}@subdomain.example-shop-customer.com",
        subject="Order 1003 never arrived and I need it before my trip on Saturday, please help me " * 2,
        body="Hi, I ordered the four-person tent weeks ago (order no. 1003) and it still has not arrived. " * 3))
        for i in range(3)]
    other = get_user_model().objects.create_user(username="linus", password="x", is_staff=True)
    Draft.objects.filter(pk=drafts[0].pk).update(claimed_by=other,
                                                 claimed_until=timezone.now() + timezone.timedelta(minutes=5))
    _agent()
    login(page, live_server, "grace", "grace-pass-2026")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/admin/conversations/draft/?status__exact=pending")
    page.wait_for_selector("#result_list")
    page.screenshot(path=str(ARTIFACTS / "queue-1280.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Every column is inside the visible list, not scrolled off to the right of it.
    visible = page.locator(".results").bounding_box()
    status_box = page.locator("#result_list td.field-status_text").first.bounding_box()
    assert status_box["x"] + status_box["width"] <= visible["x"] + visible["width"] + 1
    assert "linus" in page.locator("#result_list tbody tr").first.inner_text()


def test_html_mail_renders_its_table_keeps_tracking_pixels_off_until_asked_and_folds_quotes(page, live_server):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits = []

    class Pixel(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/gif")
            self.end_headers()
            self.wfile.write(base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"))

        def log_message(self, *args):
            pass

    tracker = ThreadingHTTPServer(("127.0.0.1", 0), Pixel)
    threading.Thread(target=tracker.serve_forever, daemon=True).start()
    pixel = f"http://127.0.0.1:{tracker.server_address[1]}/open.gif?agent=1"
    customer, _ = customer_get_or_create_lead(email="ada@example.com", name="Ada")
    message, _ = message_ingest(facts=MessageFacts(
        channel="email", direction="inbound", external_msg_id="html-1", external_thread_id="html-1",
        from_address="ada@example.com", subject="Wrong item in my parcel", body="",
        body_html=(f'<p>Hi, this arrived instead:</p><table><tr><th>Item</th><th>Qty</th></tr>'
                   f'<tr><td>Camp stove</td><td>2</td></tr></table><img src="{pixel}">'
                   '<div class="gmail_quote">On Mon, Nov 2, 2026 Shop wrote:<blockquote>Hi Ada, your order shipped'
                   '</blockquote></div>'),
        sent_at=timezone.now()), customer=customer, integration="test")
    draft = draft_create(conversation_id=message.conversation_id, body="Sorry!", confidence=0.5, reply_to_id=message.pk,
                         refresh=True)
    _agent()
    login(page, live_server, "grace", "grace-pass-2026")
    _review(page, live_server, draft)
    frame = page.frame_locator("iframe.mail-frame")
    assert frame.locator("td").nth(0).inner_text() == "Camp stove"  # cells stay cells
    assert frame.locator("th").nth(1).inner_text() == "Qty"
    assert not frame.locator("text=your order shipped").is_visible()  # quoted history folded
    frame.locator("summary").click()
    assert frame.locator("text=your order shipped").is_visible()
    page.wait_for_timeout(500)
    assert hits == []  # the sender learns nothing from opening the draft
    page.click("#load-images")
    page.wait_for_selector("iframe.mail-frame")
    page.wait_for_timeout(1000)
    assert hits == ["/open.gif?agent=1"]
    page.screenshot(path=str(ARTIFACTS / "review-html-mail.png"), full_page=True)
    tracker.shutdown()


def test_reject_and_redraft_then_write_my_own_reply(page, live_server):
    from integrations.demo import seed_demo

    seed_demo()
    draft = Draft.objects.filter(status="pending", reply_to__subject="Where is my tent?").first()
    assert draft is not None
    login(page, live_server, "agent", "agent-demo-2026")
    _review(page, live_server, draft)
    page.click("#thread")
    page.keyboard.press("r")
    page.keyboard.type("Say whether it arrives before Saturday")
    with page.expect_navigation():
        page.click("#reject-redraft")
    redraft = Draft.objects.get(replaces=draft)
    assert f"/draft/{redraft.pk}/change/" in page.url
    assert "Say whether it arrives before Saturday" in page.inner_text("#redraft-of")
    page.screenshot(path=str(ARTIFACTS / "redraft.png"), full_page=True)
    # Not good enough either: the agent writes the reply themselves.
    page.click("#write-own summary")
    page.fill("#own_text", "Hi Ada, your tent left our warehouse today and UPS delivers it on Friday. Grace")
    with page.expect_navigation():
        page.click("#send-own")
    own = Draft.objects.get(origin=Draft.Origin.AGENT)
    assert own.reply_to_id == draft.reply_to_id and own.status in (Draft.Status.APPROVED, Draft.Status.SENT)
    assert Approval.objects.get(draft=own).action == Approval.Action.WRITTEN
    assert Draft.objects.get(pk=redraft.pk).status == Draft.Status.SUPERSEDED


def test_two_agents_see_who_is_reviewing_and_the_second_is_steered_on(page, live_server):
    first = make_draft(message=make_inbound_message(email="one@example.com"))
    second = make_draft(message=make_inbound_message(email="two@example.com"))
    _agent("grace")
    _agent("linus")
    from django.test import Client

    linus = Client()
    linus.force_login(get_user_model().objects.get(username="linus"))
    linus.get(f"/admin/conversations/draft/{first.pk}/change/")  # Linus opened the first draft
    login(page, live_server, "grace", "grace-pass-2026")
    _review(page, live_server, first)
    assert "linus is reviewing this draft right now" in page.inner_text("#held-by")
    page.click("#thread")
    with page.expect_navigation():
        page.keyboard.press("n")
    assert f"/draft/{second.pk}/change/" in page.url
    page.screenshot(path=str(ARTIFACTS / "soft-claim.png"), full_page=True)


def test_the_undo_offer_counts_down_and_goes_when_its_window_closes(page, live_server, settings):
    settings.SEND_UNDO_SECONDS = 4
    first = _reviewing_the_first_of_two(page, live_server)
    page.click("#thread")
    with page.expect_navigation():
        page.keyboard.press("a")
    page.wait_for_selector("#undo")
    shown = int(page.inner_text("#undo-seconds"))
    assert 0 < shown <= 4
    # The figure follows the clock (it was frozen at the page's load), then the offer ends with the window.
    page.wait_for_function("(shown) => +document.getElementById('undo-seconds').textContent < shown", arg=shown,
                           timeout=5_000)
    page.wait_for_selector("#undo", state="detached", timeout=8_000)
    assert "its undo window has closed" in page.inner_text("#undo-form")
    here = page.url
    page.click("#thread")
    page.keyboard.press("u")  # nothing to undo any more: the page stays, the approval stands
    page.wait_for_load_state()
    assert page.url == here
    first.refresh_from_db()
    assert first.status == Draft.Status.APPROVED
