"""Wordings of a real inbox the drafter first misread (issue 14, second held-out round), on the demo shop.

Product words in German, Spanish and French, follow-up questions and conditions, a price the
customer paid, forwarded mails, the damage apology, a colour the catalog never lists, a site
page's sentence chosen by the whole request, and `draft_reply --body-file -`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from assistants.context import email_in
from assistants.email_text import forwarded_clean
from assistants.product_words import english_product_words
from assistants.providers.grounded_knowledge import site_passage
from assistants.request_refs import products_find
from assistants.requests import email_requests
from assistants.services import draft_compose
from integrations.demo import seed_demo

CATALOG = [("TENT-2P-GRN", "Ridgeline 2-person tent (green)"), ("BAG-SLP-M10", "Summit sleeping bag -10C"),
           ("STOVE-TI-01", "Titanium camp stove"), ("LAMP-HD-300", "Headlamp 300 lumen"),
           ("BOOT-HK-44", "Trail hiking boots size 44"), ("JKT-RAIN-M", "Stormshell rain jacket (M)")]


@pytest.mark.parametrize("text,sku", [
    ("Habt ihr den Schlafsack noch auf Lager?", "BAG-SLP-M10"),
    ("Was kostet das Zelt für 2 Personen?", "TENT-2P-GRN"),
    ("¿Cuánto cuestan las botas de senderismo?", "BOOT-HK-44"),
    ("Combien coûte le réchaud en titane ?", "STOVE-TI-01"),
    ("la lampe frontale est-elle disponible ?", "LAMP-HD-300"),
    ("is the headlamp in stock?", "LAMP-HD-300"),  # the title's bare number is not needed
])
def test_product_words_in_other_languages_name_the_catalogs_items(text, sku):
    assert [p.sku for p in products_find(text, CATALOG)] == [sku]


def test_product_words_leave_other_text_alone():
    assert english_product_words("Can I pick it up at your store on Friday?") == (
        "Can I pick it up at your store on Friday?")
    assert products_find("Can I pick it up at the shop?", CATALOG) == []


def test_a_follow_up_question_joins_the_request_before_it():
    found = email_requests(subject="stock", body="Is the titanium stove in stock? And what about the Summit sleeping bag?",
                           catalog=CATALOG)
    assert len(found.requests) == 1 and found.requests[0].intent == "availability"
    assert {p.sku for p in found.requests[0].refs.products} == {"STOVE-TI-01", "BAG-SLP-M10"}
    # a question of its own stays one
    two = email_requests(subject="x", body="Where is my order 1004? Also, do you still have the sleeping bag?")
    assert [r.intent for r in two.requests] == ["order_status", "availability"]


def test_a_condition_stays_with_its_question():
    found = email_requests(subject="tent", body="If it is not in stock, when will the Basecamp tent be back?")
    assert [r.text for r in found.requests] == ["If it is not in stock, when will the Basecamp tent be back?"]
    assert found.requests[0].intent == "availability"


def test_a_price_the_customer_paid_is_context_not_a_price_question():
    found = email_requests(subject="stoves", body="I paid 130 for two stoves (order 1002) over a week ago and they "
                                                  "still haven't shipped, where are they?")
    assert "price" not in [r.intent for r in found.requests]
    assert found.order_names() == ["#1002"]


def test_a_forwarded_message_is_read_without_its_headers_and_a_quoted_reply_is_not():
    body = ("FYI see below, still no reply\n\n-----Original Message-----\nFrom: Grace <grace.hopper@example.com>\n"
            "Sent: Monday, November 23, 2026 10:02 AM\nTo: support@demo-shop.example\nSubject: boots\n\n"
            "When will my boots from order 1003 ship?")
    assert forwarded_clean("FW: boots", body) == "When will my boots from order 1003 ship?"
    assert email_requests(subject="FW: boots", body=body).order_names() == ["#1003"]
    # The same block under "Re:" is our earlier reply quoted: not read as the customer's request.
    assert forwarded_clean("Re: boots", body) == ""


def test_site_passage_is_chosen_by_the_kind_of_answer_asked():
    page = ("Visit our store in Bristol\nOur shop is at 12 Harbour Road, Bristol BS1 4RN, five minutes' walk from the "
            "station.\nOpening hours: Monday to Saturday, 9:00 to 18:00.\nThe store is closed on Sundays and bank "
            "holidays.\nYou can pick up an online order at the store for free: choose Collect in Bristol at checkout.")
    passage = site_passage("what time does the bristol shop close on saturdays?", page)
    assert "9:00 to 18:00" in passage


@pytest.mark.django_db
def test_the_damage_apology_names_the_order_and_an_unlisted_colour_needs_a_person():
    seed_demo()
    damaged = draft_compose(email=email_in(from_address="edsger.dijkstra@example.com", subject="boots",
                                           body="one of the boots from 1007 has a split seam after the first walk"))
    assert "sorry that your order #1007 did not arrive" in damaged.result.body
    colour = draft_compose(email=email_in(from_address="barbara.liskov@example.com", subject="jacket",
                                          body="Does the Stormshell rain jacket come in yellow?"))
    assert "does not list the Stormshell rain jacket in yellow" in colour.result.body
    assert colour.result.confidence < 0.5


@pytest.mark.django_db
def test_draft_reply_reads_the_body_from_stdin():
    seed_demo()
    out = StringIO()
    call_command("draft_reply", "--from", "ada.lovelace@example.com", "--subject", "Bestellung", "--body-file", "-",
                 "--dry-run", "--json", stdin=StringIO("Wo ist meine Bestellung 1001?"), stdout=out)
    data = json.loads(out.getvalue())
    assert "1Z999AA10123456784" in data["body"] and data["language"] == "de"


def test_draft_reply_reads_stdin_in_a_real_process():
    """Without call_command's stdin: the command reads the process's own standard input (a triaged
    email, so the answer needs no database rows)."""
    done = subprocess.run(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "draft_reply", "--from",
         "mailer-daemon@mx.example.com", "--subject", "Undelivered Mail Returned to Sender", "--body-file", "-",
         "--dry-run", "--json"],
        input="This is the mail system at host mx.example.com. I'm sorry to have to inform you ...",
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads(done.stdout[done.stdout.index("{"):])
    assert data["triage"]["label"] == "bounce" and data["body"] == ""


@pytest.mark.parametrize("text", [
    "Can I pay with PayPal or Apple Pay?",  # read as a shipping question before the payment examples
    "Hey, does your checkout take Apple Pay?",
    "Kann man bei euch auch per PayPal zahlen oder nur mit Karte?",
    "¿Puedo pagar el pedido con Apple Pay?",
    "Est-ce que vous acceptez PayPal ou Apple Pay ?",
])
def test_a_question_about_how_to_pay_is_a_general_question_not_shipping(text):
    [request] = email_requests(subject="question", body=text).requests
    assert request.intent == "general"
