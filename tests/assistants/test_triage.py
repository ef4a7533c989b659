"""Triage before drafting, on Postgres: real-shaped emails in, a label out, a draft only for a customer.

The emails in triage_emails/ are written the way their senders write them, headers included:
Exchange, Gmail, cPanel and vacation(1) auto-replies in English, German, Spanish and French,
Postfix/Gmail/Exchange/Exim bounces with RFC 3464 reports, cold SEO and link-building pitches and
a newsletter, GDPR/DSGVO/RGPD erasure and access requests, and customers who sound like any of
those but are not (an angry "money back", a holiday, an address change, a newsletter question).
The file name says the label each must get: `<label>__<what it is>.eml`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from email.utils import parseaddr
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from assistants.models import ModelRun
from assistants.services import draft_generate
from assistants.triage import triage_classify
from conversations.models import Draft, Message
from conversations.services.drafts import messages_awaiting_draft
from conversations.services.threads import MessageFacts, message_ingest
from conversations.services.triage import message_triage_overrule
from customers.services import customer_get_or_create_lead
from omnichannel.models import AuditLog
from tests.builders import draft_reply_json, make_inbound_message

pytestmark = pytest.mark.django_db
EMAILS = sorted((Path(__file__).parent / "triage_emails").glob("*.eml"))
LABELS = {"customer", "auto_reply", "bounce", "spam", "privacy_request"}


def _label(path: Path) -> str:
    return path.name.split("__")[0]


def _parsed(path: Path):
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def _text(mail) -> str:
    part = mail.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part is not None else ""


def _ingest(path: Path) -> Message:
    """The email as a channel delivers it: its text part as the body, its headers beside it."""
    mail = _parsed(path)
    name, address = parseaddr(str(mail["From"]))
    customer, _ = customer_get_or_create_lead(email=address, name=name)
    message, _ = message_ingest(facts=MessageFacts(
        channel="email", direction="inbound", external_msg_id=f"triage-{path.stem}",
        external_thread_id=f"triage-thread-{path.stem}", rfc_message_id=str(mail["Message-ID"] or ""),
        from_address=address, from_name=name, subject=str(mail["Subject"] or ""),
        body=_text(mail), sent_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        headers={k: str(v) for k, v in mail.items()}), customer=customer, integration="test")
    return message


def test_there_are_at_least_25_real_emails_with_every_label_and_tricky_customers():
    labels = [_label(p) for p in EMAILS]
    assert len(EMAILS) >= 25 and set(labels) == LABELS
    assert all(labels.count(label) >= 4 for label in LABELS)


@pytest.mark.parametrize("path", EMAILS, ids=lambda p: p.stem)
def test_each_email_gets_its_label_and_only_a_customers_email_gets_a_draft(path):
    expected = _label(path)
    message = _ingest(path)
    outcome = draft_generate(message_id=message.pk)
    message.refresh_from_db()
    assert (message.triage_label, outcome.as_json()["triage"]["label"]) == (expected, expected), message.triage_reason
    assert message.triaged_at is not None and message.triage_reason
    audit = AuditLog.objects.get(event_type="message.triaged", object_id=str(message.pk))
    assert audit.payload == {"conversation_id": message.conversation_id, "label": expected,
                             "reason": message.triage_reason}
    if expected == "customer":
        assert outcome.draft is not None and Draft.objects.filter(reply_to=message).count() == 1
    else:
        # Nothing customer-facing: no draft, no model run, an empty body.
        assert not Draft.objects.filter(reply_to=message).exists()
        assert not ModelRun.objects.filter(message=message).exists()
        assert outcome.draft is None and outcome.as_json()["body"] == ""


def test_only_the_headers_triage_reads_are_kept_on_the_message():
    message = _ingest(Path(__file__).parent / "triage_emails" / "auto_reply__outlook_automatic_reply.eml")
    # Received, Thread-Index, X-MS-Exchange-* and the rest stay in the provider's copy of the email.
    assert message.headers == {"auto-submitted": "auto-generated", "content-type": 'text/plain; charset="us-ascii"'}


def test_reasons_name_rules_and_never_repeat_what_the_sender_wrote():
    """The reason stays when an erasure blanks the message: it must hold no personal data."""
    for path in EMAILS:
        mail = _parsed(path)
        reason = triage_classify(from_address=parseaddr(str(mail["From"]))[1], subject=str(mail["Subject"]),
                                 body=_text(mail),
                                 headers={k: str(v) for k, v in mail.items()}).reason
        assert "@" not in reason and "#" not in reason, (path.name, reason)


# What an agent cannot act on: header names, RFC numbers, MIME types, internal label names.
JARGON = re.compile(r"RFC|Auto-Submitted|Precedence|Content-Type|multipart|report-type|X-[A-Z]|List-Unsubscribe"
                    r"|header|auto_reply|privacy_request|mailer-daemon|postmaster", re.IGNORECASE)


def test_every_reason_an_agent_reads_is_plain_words():
    """Agents read the reason in Triaged emails: it said "Auto-Submitted: auto-replied (RFC 3834)" and
    "a read receipt (Content-Type: multipart/report; report-type=disposition-notification)"."""
    reasons = {}
    for path in EMAILS:
        mail = _parsed(path)
        result = triage_classify(from_address=parseaddr(str(mail["From"]))[1], subject=str(mail["Subject"]),
                                 body=_text(mail), headers={k: str(v) for k, v in mail.items()},
                                 from_name=parseaddr(str(mail["From"]))[0])
        reasons[path.name] = "" if result.drafted else result.reason
    assert {name: reason for name, reason in reasons.items() if JARGON.search(reason)} == {}
    assert [reason for reason in reasons.values() if reason and not reason[0].isupper()] == []  # sentences
    for headers in ({"Auto-Submitted": "auto-replied"}, {"X-Autoreply": "yes"}, {"Precedence": "auto_reply"}):
        assert triage_classify(from_address="away@example.com", subject="Hello", body="Thanks for your email.",
                               headers=headers).reason == "Automatic reply (out of office)"
    assert len(set(reasons.values())) > 10  # they still say which rules matched, not one sentence for all


@pytest.mark.parametrize("body", [
    "I want my money back.",
    "I want my money back, the stove arrived dented. Is there a money-back guarantee?",
    "Please unsubscribe me from the newsletter, and where is my refund?",
    "Do you have any special offer on the Ridgeline tent?",
    "My nephew does SEO for a living and says your site is great. Anyway: is the Summit bag in stock?",
    "I'm on vacation until the 14th. Could the parcel wait at the depot?",
    "Is your shop GDPR compliant?",
])
def test_a_single_marketing_or_holiday_phrase_never_makes_a_customer_something_else(body):
    result = triage_classify(from_address="lin.chen@example.com", subject="Question", body=body)
    assert result.label == "customer", result.reason


@pytest.mark.parametrize("body,label", [
    # an erasure asked for with a noun, in four languages
    ("I request the deletion of my data and my account.", "privacy_request"),
    ("Bitte um Löschung meiner Daten und meines Kundenkontos.", "privacy_request"),
    ("Ich möchte mein Konto löschen lassen.", "privacy_request"),
    ("Solicito la supresión de todos mis datos personales.", "privacy_request"),
    ("Je souhaite la suppression de mes données personnelles.", "privacy_request"),
    # "mein Konto" in a customer's question is not a privacy request, nor is "entfernen" in another sentence
    ("Ich kann mich nicht mehr in mein Konto einloggen. Können Sie mir helfen?", "customer"),
    ("Wie ändere ich das Passwort für mein Konto? Bitte entfernen Sie den Schlafsack aus der Bestellung.", "customer"),
    # an SEO pitch in German
    ("Ihre Website könnte bei Google deutlich besser ranken. Wir bieten Suchmaschinenoptimierung zum Festpreis an. "
     "Darf ich Ihnen ein unverbindliches Angebot schicken?", "spam"),
])
def test_erasure_nouns_mein_konto_and_seo_pitches_in_other_languages(body, label):
    result = triage_classify(from_address="kim.berg@example.de", subject="Anfrage", body=body)
    assert result.label == label, result.reason


def test_auto_submitted_no_is_a_person_writing_and_gets_a_draft():
    """RFC 3834 §5: `Auto-Submitted: no` marks a message a human sent."""
    result = triage_classify(from_address="ada@example.com", subject="Order", body="Where is my order #1001?",
                             headers={"Auto-Submitted": "no"})
    assert result.label == "customer"


def test_a_message_is_triaged_once_and_a_regenerate_keeps_its_label():
    message = _ingest(Path(__file__).parent / "triage_emails" / "spam__guest_post_offer.eml")
    first = draft_generate(message_id=message.pk)
    again = draft_generate(message_id=message.pk, refresh=True)
    assert first.triage == again.triage and again.triage.label == "spam"
    assert AuditLog.objects.filter(event_type="message.triaged", object_id=str(message.pk)).count() == 1
    assert not Draft.objects.filter(reply_to=message).exists()


def test_an_agent_overrules_triage_and_the_email_is_drafted_like_any_other(agent_user,
                                                                           django_capture_on_commit_callbacks):
    message = _ingest(Path(__file__).parent / "triage_emails" / "auto_reply__unix_vacation_precedence_bulk.eml")
    draft_generate(message_id=message.pk)
    with django_capture_on_commit_callbacks(execute=True):  # generate_draft runs inline after commit
        message_triage_overrule(message_id=message.pk, acting_user=agent_user)
    message.refresh_from_db()
    assert (message.triage_label, message.triage_reason) == ("customer", "an agent marked it as a customer's email")
    assert Draft.objects.get(reply_to=message).status == Draft.Status.PENDING
    overruled = AuditLog.objects.get(event_type="message.triage_overruled")
    assert overruled.actor_user == agent_user and overruled.payload["previous_label"] == "auto_reply"
    # A later run (a regenerate) keeps the agent's word.
    assert draft_generate(message_id=message.pk, refresh=True).triage.label == "customer"


def test_the_draft_sweep_does_not_ask_again_for_triaged_mail_but_does_for_untriaged():
    bounce = _ingest(Path(__file__).parent / "triage_emails" / "bounce__postfix_undelivered_mail.eml")
    draft_generate(message_id=bounce.pk)
    lost = make_inbound_message(email="lost@example.com", body="Where is my order #1002?")  # its task was lost
    assert messages_awaiting_draft() == [lost.pk]


@pytest.mark.parametrize("dry_run", [True, False])
def test_draft_reply_json_names_the_triage_and_an_auto_reply_gets_an_empty_body(tmp_path, dry_run):
    data = draft_reply_json(tmp_path, "--from", "jonas.becker@example.de", "--subject", "Automatic reply: Re: Order",
                        "--header", "Auto-Submitted: auto-generated", *(["--dry-run"] if dry_run else []),
                        body="Thank you for your email. I am out of the office until Monday.")
    assert data["triage"] == {"label": "auto_reply",
                              "reason": "Automatic message: sent by a program, not written by a person"}
    assert data["body"] == "" and data["draft_id"] is None and data["intent"] is None
    assert Draft.objects.count() == 0
    if not dry_run:
        assert Message.objects.get().headers == {"auto-submitted": "auto-generated"}


def test_draft_reply_json_says_a_customer_email_was_triaged_as_one(tmp_path):
    data = draft_reply_json(tmp_path, "--from", "ada.lovelace@example.com", "--subject", "Order", "--dry-run",
                        body="Where is my order #1001?")
    assert data["triage"]["label"] == "customer" and data["body"]


def test_draft_reply_refuses_a_header_without_a_colon(tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--header"):
        draft_reply_json(tmp_path, "--from", "a@example.com", "--subject", "x", "--header", "Auto-Submitted", body="x")


def test_draft_reply_prints_the_triage_and_no_draft_for_a_bounce(tmp_path):
    path = tmp_path / "email.txt"
    path.write_text("This is the mail system at host mx.example.com.")
    out = StringIO()
    call_command("draft_reply", "--from", "MAILER-DAEMON@mx.example.com", "--subject", "Undelivered Mail Returned to "
                 "Sender", "--body-file", str(path), "--dry-run", stdout=out)
    assert out.getvalue().splitlines()[0] == ("triage      bounce: Returned mail: the mail system reports that an email "
                                              "could not be delivered")
    assert "no draft" in out.getvalue() and "intent" not in out.getvalue()
