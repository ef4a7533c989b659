"""Run the whole drafting pipeline on one email, as if it had just arrived."""

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from django.core.management.base import BaseCommand, CommandError

from assistants.context import email_in
from assistants.services import draft_compose, draft_generate
from assistants.triage import email_triage
from conversations.services.threads import MessageFacts, message_ingest
from customers.services import customer_get_or_create_lead


def _header(raw: str) -> tuple[str, str]:
    name, colon, value = raw.partition(":")
    if not colon or not name.strip():
        raise CommandError(f"--header {raw!r} is not 'Name: value'")
    return name.strip(), value.strip()


class Command(BaseCommand):
    help = "Draft a reply to one email: prints its triage, intent, each request, draft, confidence and sources."
    stealth_options = ("stdin",)  # call_command(..., stdin=StringIO(...)) for `--body-file -`

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="sender", required=True, help="the customer's email address")
        parser.add_argument("--subject", required=True)
        parser.add_argument("--body-file", type=Path, required=True, help="a file with the email's text ('-' for stdin)")
        parser.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'",
                            help="an RFC header of the email, for triage (e.g. 'Auto-Submitted: auto-replied'); repeatable")
        parser.add_argument("--dry-run", action="store_true", help="write nothing (no conversation, draft or run)")
        parser.add_argument("--json", action="store_true", help="print one JSON document")

    def handle(self, *args, sender, subject, body_file, header, dry_run, **options):
        if "@" not in sender:
            raise CommandError(f"--from {sender!r} is not an email address")
        headers = dict(_header(raw) for raw in header)
        try:
            body = (options.get("stdin") or sys.stdin).read() if str(body_file) == "-" else body_file.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"--body-file {body_file}: {exc}") from exc
        if dry_run:
            outcome = (email_triage(from_address=sender, subject=subject, body=body, headers=headers)
                       or draft_compose(email=email_in(from_address=sender, subject=subject, body=body)))
        else:
            now = datetime.now(UTC)
            customer, _ = customer_get_or_create_lead(email=sender, seen_at=now)  # just arrived: a new contact
            message, _ = message_ingest(facts=MessageFacts(
                channel="email", direction="inbound", external_msg_id=f"manual-{uuid4().hex}",
                external_thread_id=f"manual-{sender.lower()}", from_address=sender, subject=subject, body=body,
                headers=headers, sent_at=now), customer=customer, integration="draft_reply")
            # Ingesting queued (or, without Celery, already ran) the message's own generate_draft: a
            # refresh replaces that draft while it is pending, so the one printed is the one in the queue.
            outcome = draft_generate(message_id=message.pk, refresh=True)
            if outcome is None:
                raise CommandError(f"message {message.pk} was not drafted; the draft.skipped audit row says why")
        self._print(outcome, as_json=options["json"])

    def _print(self, outcome, *, as_json: bool) -> None:
        data = outcome.as_json()
        if as_json:
            self.stdout.write(json.dumps(data, indent=2, default=str))
            return
        self.stdout.write(f"triage      {data['triage']['label']}: {data['triage']['reason']}")
        if data["intent"] is None:  # triaged: no draft
            self.stdout.write("\n(no draft: not a customer's email; it waits in the admin's Triaged emails)")
            return
        self.stdout.write(f"intent      {data['intent']} ({data['intent_confidence']:.2f})")
        for request in data["requests"]:
            self.stdout.write(f"  request   {request['intent']} ({request['probability']:.2f}) {request['text']}")
        self.stdout.write(f"confidence  {data['confidence']:.2f}   model {data['model']}")
        if data["provider_error"]:
            self.stdout.write(f"provider    FAILED: {data['provider_error']}")
        self.stdout.write("\n" + data["body"] + "\n")
        self.stdout.write("sources:")
        for s in data["sources"] or []:
            url = f"  {s['url']}" if s["url"] else ""
            self.stdout.write(f"  [{s['kind']}:{s['id']}] {s['label']}  score {s['score']}{url}")
        if not data["sources"]:
            self.stdout.write("  (none: the draft says what the agent will check)")
