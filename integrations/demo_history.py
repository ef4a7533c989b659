"""Past conversations for the demo shop (`manage.py seed_demo --history`): customers' questions, the
assistant's drafts, and the replies agents approved or edited, so the learning pages show real items
on a fresh `make run`: FAQ proposals (`faq_proposals_refresh`, run at the end) and correction candidates
(the same pasted line, edited in three times or more).

Every step goes through the services, as the real flow does: the inbound email is ingested
(`message_ingest`), drafted by the offline drafter (`draft_generate`), then approved as drafted when the
draft already says the answer, or edited by the agent into the known answer (greeting and sign-off kept)
(`draft_approve`, `draft_edit_and_approve`). Idempotent: a message the demo already holds is skipped.

The topics (fixtures/demo_history.json) are not those of goldens/learning.yaml, so `learning_eval` run
on a database seeded with history still measures what its own replay teaches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from assistants.services import draft_generate
from conversations.models import Message
from conversations.services.approvals import draft_approve, draft_edit_and_approve
from conversations.services.threads import MessageFacts, message_ingest
from customers.services import customer_get_or_create_lead
from faq.services_proposals import faq_proposals_refresh

HISTORY_FILE = Path(settings.BASE_DIR) / "fixtures" / "demo_history.json"


@dataclass
class HistoryReport:
    conversations: int = 0
    approved: int = 0
    edited: int = 0
    skipped: int = 0  # already loaded
    proposals: int = 0


def _agent_reply(draft_body: str, answer: str) -> str:
    """The agent's edit: the draft's greeting and sign-off kept, what is between replaced by the answer."""
    paragraphs = draft_body.split("\n\n")
    return "\n\n".join([paragraphs[0], answer, paragraphs[-1]]) if len(paragraphs) >= 3 else answer


def _one(topic: dict, n: int, email: dict, when, agent, report: HistoryReport) -> None:
    msg_id = f"demo-history-{topic['id']}-{n + 1}"
    if Message.objects.filter(external_msg_id=msg_id).exists():
        report.skipped += 1
        return
    with transaction.atomic():
        customer, _ = customer_get_or_create_lead(email=email["from"], name=email.get("name", ""), integration="demo")
        message, _ = message_ingest(
            facts=MessageFacts(
                channel="email",
                direction="inbound",
                external_msg_id=msg_id,
                external_thread_id=msg_id,
                rfc_message_id=f"<{msg_id}@mail.example.org>",
                from_address=email["from"],
                from_name=email.get("name", ""),
                subject=email["subject"],
                body=email["body"],
                sent_at=when,
                raw_payload={"demo": True, "history": True},
            ),
            customer=customer,
            integration="demo",
        )
        outcome = draft_generate(message_id=message.pk, provider="grounded")
        if outcome is None or outcome.draft is None:
            return
        answers = topic["replies"]
        answer = answers[n % len(answers)]
        if all(word.lower() in outcome.draft.body.lower() for word in topic["says"]):
            draft_approve(draft_id=outcome.draft.pk, acting_user=agent)
            report.approved += 1
        else:
            draft_edit_and_approve(
                draft_id=outcome.draft.pk, acting_user=agent, final_text=_agent_reply(outcome.draft.body, answer)
            )
            report.edited += 1
        report.conversations += 1


def seed_history(path: Path = HISTORY_FILE) -> HistoryReport:
    """Load the past conversations (each in its own transaction, after the demo shop), then refresh the FAQ
    proposals so Ops see them at once (the weekly `propose_faq` would otherwise wait for its day)."""
    data = json.loads(Path(path).read_text())
    agent = get_user_model().objects.get(username="agent")
    report = HistoryReport()
    start = timezone.now() - timedelta(days=data.get("days", 60))
    emails = [(topic, n, email) for topic in data["topics"] for n, email in enumerate(topic["emails"])]
    step = timedelta(days=data.get("days", 60)) / max(len(emails), 1)
    # Interleaved by position, so the topics' conversations spread over the weeks as real mail does.
    for i, (topic, n, email) in enumerate(sorted(emails, key=lambda item: (item[1], item[0]["id"]))):
        _one(topic, n, email, start + step * i, agent, report)
    report.proposals = len(faq_proposals_refresh().created)
    return report
