"""Does learning help? A before/after measure of the loop: approved edits, corrections, FAQ proposals.

On the demo shop (`manage.py seed_demo`), the emails of goldens/learning.yaml are split into a
learning half and an evaluation half. The evaluation half is drafted (nothing written), then the
learning half is replayed as agents and Ops would, one kind of learning at a time, and the
evaluation half is drafted again after each:

1. approved edits: each learning email is ingested and drafted; the agent approves the draft if it
   already says the answer, else edits it into the known good answer (greeting and sign-off kept);
   the approved reply is indexed as the drafter's example, as `index_approved_reply` does;
2. corrections: every correction candidate that appears (the same edit made 3 times or more) is
   accepted as the candidates page's "Accept" does (`correction_candidate_accept`, then `correction_upsert`);
3. FAQ: the proposals that appear (`faq_proposals_refresh`) are approved and published as suggested
   (`faq_proposal_publish`; a refusal, text holding a customer's facts, is reported).

The golden cases (goldens/qa.yaml) are drafted at every stage too: what was learned must not make
a case that passed fail. Everything runs in one transaction that is rolled back at the end, so the
database is left as it was; the examples indexed in Chroma are deleted again (`finally`). Chroma is
called inside that transaction (the examples must be indexed mid-way): it holds only the rows it
wrote itself, and commits nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from assistants import vectorstore
from assistants.context import email_in
from assistants.goldens import goldens_run
from assistants.indexing import approved_reply_index
from assistants.services import DraftOutcome, draft_compose, draft_generate
from conversations.services.approvals import draft_approve, draft_edit_and_approve
from conversations.services.threads import MessageFacts, message_ingest
from customers.services import customer_get_or_create_lead
from faq.correction_candidates import correction_candidates
from faq.models import FaqProposal
from faq.services import correction_candidate_accept
from faq.services_proposals import faq_proposal_publish, faq_proposals_refresh
from omnichannel.errors import ApplicationError

LEARNING_FILE = Path(settings.BASE_DIR) / "goldens" / "learning.yaml"
STAGES = ("before", "approved edits", "corrections", "FAQ")


@dataclass(frozen=True)
class Case:
    id: str
    topic: str
    intent: str
    from_address: str
    subject: str
    body: str
    expect: dict
    reply: str


@dataclass
class Draft:
    """One evaluation email drafted at one stage."""

    passed: bool
    failures: list[str]
    confidence: float
    learned: list[str]  # the learned items the draft used ("correction <key>", "faq <question>")
    example: bool  # a reply an agent edited during the replay is among the drafter's examples


@dataclass
class LearningReport:
    cases: list[Case]
    drafts: dict[str, dict[str, Draft]] = field(default_factory=dict)  # stage -> case id -> draft
    goldens: dict[str, dict[str, bool]] = field(default_factory=dict)  # stage -> golden id -> passed
    goldens_counted: set[str] = field(default_factory=set)  # cases counted on this embedding backend
    approvals: dict[str, int] = field(default_factory=dict)  # "approve" / "edit" -> count
    corrections: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def pass_rate(self, stage: str, intent: str | None = None) -> tuple[int, int]:
        chosen = [c for c in self.cases if intent is None or c.intent == intent]
        return sum(self.drafts[stage][c.id].passed for c in chosen), len(chosen)

    def regressions(self, stage: str = STAGES[-1]) -> list[str]:
        """Golden cases of the current embedding backend that passed before anything was learned and fail
        at `stage` (a case written for another backend, e.g. minilm only, is not counted: as run_goldens)."""
        before, after = self.goldens[STAGES[0]], self.goldens[stage]
        return sorted(case for case, passed in before.items()
                      if passed and not after.get(case, False) and case in self.goldens_counted)

    def changes(self) -> list[tuple[str, str, bool, list[str]]]:
        """(case, stage, passes now, learned items used) for each evaluation draft whose verdict changed."""
        found = []
        for case in self.cases:
            for previous, stage in zip(STAGES, STAGES[1:], strict=False):
                was, now = self.drafts[previous][case.id], self.drafts[stage][case.id]
                if was.passed != now.passed:
                    found.append((case.id, stage, now.passed, now.learned))
        return found

    def misapplied(self, stage: str = STAGES[-1]) -> dict[str, list[str]]:
        """Evaluation drafts that use a learned item and still fail: learning put the wrong answer there."""
        return {case: draft.learned for case, draft in self.drafts[stage].items() if draft.learned and not draft.passed}

    def as_json(self) -> dict:
        return {
            "stages": {stage: {"passed": self.pass_rate(stage)[0], "cases": len(self.cases),
                               "examples": sum(d.example for d in self.drafts[stage].values()),
                               "mean_confidence": round(sum(d.confidence for d in self.drafts[stage].values())
                                                        / len(self.cases), 3),
                               "goldens_passed": sum(self.goldens[stage].values()) if stage in self.goldens else None,
                               "goldens": len(self.goldens.get(stage, {}))} for stage in STAGES},
            "per_intent": {intent: {stage: self.pass_rate(stage, intent)[0] for stage in STAGES}
                           for intent in sorted({c.intent for c in self.cases})},
            "misapplied": self.misapplied(),
            "changes": [{"case": c, "stage": s, "passed": p, "learned": learned} for c, s, p, learned in self.changes()],
            "regressions": self.regressions(), "approvals": self.approvals, "corrections": self.corrections,
            "published": self.published, "refused": self.refused,
        }


def learning_cases_load(path: Path = LEARNING_FILE) -> tuple[list[Case], list[Case]]:
    """(learning half, evaluation half): a topic's 1st, 3rd, 5th... emails to learn from, the others to check."""
    learn, evaluate = [], []
    for topic in (yaml.safe_load(Path(path).read_text()) or {}).get("topics") or []:
        replies = topic["replies"]
        for n, email in enumerate(topic["emails"]):
            case = Case(id=f"{topic['id']}-{n + 1}", topic=topic["id"], intent=topic.get("intent", "general"),
                        from_address=email["from"], subject=email.get("subject", ""), body=email["body"],
                        expect=topic.get("expect") or {}, reply=replies[(n // 2) % len(replies)])
            (learn if n % 2 == 0 else evaluate).append(case)
    return learn, evaluate


def _failures(case: Case, outcome: DraftOutcome) -> list[str]:
    """As a golden case is checked (assistants/goldens.py): intent, phrases, confidence, unsupported facts."""
    body, expect = outcome.result.body.lower(), case.expect
    failures = [f"intent {outcome.intent.intent} != {case.intent}"] if outcome.intent.intent != case.intent else []
    failures += [f"missing {text!r}" for text in expect.get("contains", []) if text.lower() not in body]
    failures += [f"must not say {text!r}" for text in expect.get("not_contains", []) if text.lower() in body]
    if outcome.result.confidence < expect.get("min_confidence", 0.0):
        failures.append(f"confidence {outcome.result.confidence} < {expect['min_confidence']}")
    if outcome.unsupported:
        failures.append(f"unsupported facts {outcome.unsupported}")
    return failures


def _draft(case: Case, learned: dict[tuple[str, str], str], approvals: set[int]) -> Draft:
    outcome = draft_compose(email=email_in(from_address=case.from_address, subject=case.subject, body=case.body),
                            provider="grounded")
    failures = _failures(case, outcome)
    used = [learned[(s.kind, s.id)] for s in outcome.result.used if (s.kind, s.id) in learned]
    example = any(s.kind == "reply" and int(s.id) in approvals and s.facts.get("edited")
                  for s in outcome.context.replies)
    return Draft(passed=not failures, failures=failures, confidence=outcome.result.confidence, learned=used,
                 example=example)


def _stage(report: LearningReport, stage: str, evaluate: list[Case], learned: dict, approvals: set[int],
           golden_stages: tuple[str, ...]) -> None:
    report.drafts[stage] = {case.id: _draft(case, learned, approvals) for case in evaluate}
    if stage in golden_stages:
        results = goldens_run(provider="grounded")
        report.goldens[stage] = {r.case_id: r.passed for r in results}
        report.goldens_counted = {r.case_id for r in results if r.expected}  # the backend's cases (qa.yaml)


def _agent_reply(draft_body: str, reply: str) -> str:
    """The agent's edit: the draft's greeting and sign-off kept, its body replaced by the known answer."""
    paragraphs = draft_body.split("\n\n")
    if len(paragraphs) >= 3:
        return "\n\n".join([paragraphs[0], reply, paragraphs[-1]])
    return reply


def _replay(learn: list[Case], agent, report: LearningReport) -> list[int]:
    approvals = []
    for case in learn:
        customer, _ = customer_get_or_create_lead(email=case.from_address, integration="learning_eval")
        message, _ = message_ingest(facts=MessageFacts(
            channel="email", direction="inbound", external_msg_id=f"learning-eval-{uuid.uuid4().hex}",
            external_thread_id=f"learning-eval-{uuid.uuid4().hex}", from_address=case.from_address, subject=case.subject,
            body=case.body, sent_at=timezone.now()), customer=customer, integration="learning_eval")
        outcome = draft_generate(message_id=message.pk, provider="grounded")
        if outcome is None or outcome.draft is None:
            continue
        if not _failures(case, outcome):
            approval = draft_approve(draft_id=outcome.draft.pk, acting_user=agent)
        else:
            approval = draft_edit_and_approve(draft_id=outcome.draft.pk, acting_user=agent,
                                              final_text=_agent_reply(outcome.draft.body, case.reply))
        report.approvals[approval.action] = report.approvals.get(approval.action, 0) + 1
        if approved_reply_index(approval_id=approval.pk):
            approvals.append(approval.pk)
    return approvals


def _user(username: str, group: str):
    user, created = get_user_model().objects.get_or_create(username=username, defaults={"is_staff": True})
    if created:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


def learning_eval(*, path: Path = LEARNING_FILE, golden_stages: tuple[str, ...] = STAGES) -> LearningReport:
    """Run the four stages on the current database (the demo shop), leaving it as it was. The golden
    cases are drafted at `golden_stages` (the first and the last at least: regressions are told by them)."""
    golden_stages = tuple(dict.fromkeys((STAGES[0], *golden_stages, STAGES[-1])))
    learn, evaluate = learning_cases_load(path)
    report = LearningReport(cases=evaluate)
    indexed: list[int] = []
    learned: dict[tuple[str, str], str] = {}
    try:
        with transaction.atomic():
            agent, ops = _user("agent", "Agents"), _user("ops", "Ops")
            _stage(report, "before", evaluate, learned, set(), golden_stages)

            indexed = _replay(learn, agent, report)
            _stage(report, "approved edits", evaluate, learned, set(indexed), golden_stages)

            for candidate in correction_candidates(min_count=3):
                try:  # as the candidates page's "Accept" does; a refusal (no pattern, only words removed) is skipped
                    correction = correction_candidate_accept(removed=candidate.removed, added=candidate.added,
                                                             min_count=3, acting_user=ops)
                except ApplicationError:
                    continue  # Ops would write this one by hand
                learned[("correction", str(correction.pk))] = f"correction {correction.key} (pattern {correction.pattern!r})"
                report.corrections.append(learned[("correction", str(correction.pk))])
            _stage(report, "corrections", evaluate, learned, set(indexed), golden_stages)

            faq_proposals_refresh(acting_user=ops)
            for proposal in FaqProposal.objects.filter(status=FaqProposal.Status.PROPOSED).order_by("pk"):
                label = f"faq {proposal.question!r} ({proposal.source_count} replies)"
                try:
                    published = faq_proposal_publish(proposal_id=proposal.pk, acting_user=ops)
                except ApplicationError as exc:
                    report.refused.append(f"{label}: {exc.message}")
                    continue
                learned[("faq", str(published.faq_entry_id))] = label
                report.published.append(label)
            _stage(report, "FAQ", evaluate, learned, set(indexed), golden_stages)
            transaction.set_rollback(True)  # a measure, not a change: nothing it learned stays
    finally:
        vectorstore.index_delete(vectorstore.REPLIES, [f"approval-{pk}" for pk in indexed])
    return report


def learning_report_lines(report: LearningReport) -> list[str]:
    goldens_note = "" if len(report.goldens) == len(STAGES) else " (goldens drafted before and after only)"
    lines = [f"{len(report.cases)} evaluation emails ({len({c.topic for c in report.cases})} topics), learned from "
             f"as many others ({report.approvals.get('edit', 0)} edited, {report.approvals.get('approve', 0)} approved "
             f"as drafted); provider grounded, embedding backend {settings.EMBEDDING_BACKEND}", "",
             f"{'stage':<16} {'passed':>8} {'rate':>6}  {'edited example in context':>26}  {'goldens passed':>15}"]
    for stage in STAGES:
        passed, total = report.pass_rate(stage)
        examples = sum(d.example for d in report.drafts[stage].values())
        goldens = report.goldens.get(stage)
        counted = [c for c in goldens or {} if c in report.goldens_counted]
        golden_text = f"{sum(goldens[c] for c in counted):>11}/{len(counted)}" if goldens else f"{'-':>11}"
        lines.append(f"{stage:<16} {passed:>4}/{total:<3} {passed / total:>6.0%}  {examples:>22}/{total:<3}  "
                     + golden_text)
    lines[0] += goldens_note
    lines += ["", "per topic (passed of 3 at each stage: " + " -> ".join(STAGES) + ")"]
    for topic in sorted({c.topic for c in report.cases}):
        ids = [c.id for c in report.cases if c.topic == topic]
        counts = [str(sum(report.drafts[stage][i].passed for i in ids)) for stage in STAGES]
        confidence = [f"{sum(report.drafts[stage][i].confidence for i in ids) / len(ids):.2f}" for stage in STAGES]
        lines.append(f"  {topic:<18} {' -> '.join(counts)}   mean confidence {' -> '.join(confidence)}")
    lines += ["", "what changed, and the learned item that changed it:"]
    for case, stage, passed, used in report.changes():
        lines.append(f"  {case:<20} {'FAIL -> PASS' if passed else 'PASS -> FAIL'} at {stage}: "
                     + (", ".join(used) or "(no learned item used)"))
    regressions = report.regressions()
    lines += ["", f"golden cases that passed before and fail after: {', '.join(regressions) or 'none'}",
              f"corrections accepted: {len(report.corrections)}", *[f"  {c}" for c in report.corrections],
              f"FAQ proposals published: {len(report.published)}", *[f"  {p}" for p in report.published]]
    misapplied = report.misapplied()
    lines.append("failing drafts that use a learned item (the wrong answer was learned or matched): "
                 + ("; ".join(f"{case} ({', '.join(used)})" for case, used in misapplied.items()) or "none"))
    if report.refused:
        lines += [f"FAQ proposals refused: {len(report.refused)}", *[f"  {r}" for r in report.refused]]
    return lines
