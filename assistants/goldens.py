"""Golden cases: realistic emails with structured expectations, checked without writing anything.

Triage comes first, as in drafting: a case may give the email's `headers`, and `expect.triage`
(default `customer`) is the label it must get; an email triage sets apart must get no draft at all.

Every drafted case is also checked for what must never happen, whatever it expects: a number no
source holds (the fact check), and a fact of another customer (an order name or tracking number
of an order the sender does not own). `expect.language` is the language the reply must be in;
`expect.needs_person` means the sources cannot answer the email, so its confidence must be below
0.5. `category` groups cases for the pass rate per kind of email.

Two files: goldens/qa.yaml (the one the drafter may be tuned on) and goldens/heldout.yaml
(written before the drafter was, never tuned on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.conf import settings

from assistants.context import email_in
from assistants.services import draft_compose
from assistants.triage import CUSTOMER, email_triage
from conversations.models import Message
from customers.models import Order
from customers.selectors import customer_summary_refresh

GOLDENS_FILE = Path(settings.BASE_DIR) / "goldens" / "qa.yaml"
HELDOUT_FILE = Path(settings.BASE_DIR) / "goldens" / "heldout.yaml"
NEEDS_PERSON_BELOW = 0.5


@dataclass
class GoldenResult:
    case_id: str
    intent: str
    confidence: float
    failures: list[str] = field(default_factory=list)
    # False for a case that lists the embedding backends it needs (`backends:`) and the current one
    # is not among them: it is still run and shown, but not counted in the pass rate.
    expected: bool = True
    category: str = ""
    drafted: bool = True  # False: triage set the email apart (no draft, no confidence)

    @property
    def passed(self) -> bool:
        return not self.failures


def _check_triaged(case: dict, triaged) -> list[str]:
    """An email triage set apart: the label expected, no draft, and nothing a draft was expected to say."""
    expect = case.get("expect") or {}
    failures = [] if triaged.triage.label == expect.get("triage", CUSTOMER) else [
        f"triage {triaged.triage.label} != {expect.get('triage', CUSTOMER)} ({triaged.triage.reason})"]
    if triaged.as_json()["body"]:
        failures.append("a triaged email got a draft body")
    if "intent" in expect:
        failures.append(f"no draft, so no intent {expect['intent']}")
    return failures + [f"missing {text!r}" for text in expect.get("contains", [])]


def _check(case: dict, outcome) -> list[str]:
    expect = case.get("expect") or {}
    body = outcome.result.body.lower()
    failures = []
    if expect.get("triage", CUSTOMER) != CUSTOMER:
        failures.append(f"triage {CUSTOMER} != {expect['triage']}: drafted")
    if "intent" in expect and outcome.intent.intent != expect["intent"]:
        failures.append(f"intent {outcome.intent.intent} != {expect['intent']}")
    failures += [f"missing {text!r}" for text in expect.get("contains", []) if text.lower() not in body]
    failures += [f"must not say {text!r}" for text in expect.get("not_contains", []) if text.lower() in body]
    kinds = {s.kind for s in outcome.result.used}
    failures += [f"no {kind} source" for kind in expect.get("sources", []) if kind not in kinds]
    confidence = outcome.result.confidence
    if confidence < expect.get("min_confidence", 0.0):
        failures.append(f"confidence {confidence} < {expect['min_confidence']}")
    if confidence > expect.get("max_confidence", 1.0):
        failures.append(f"confidence {confidence} > {expect['max_confidence']}")
    if expect.get("needs_person") and confidence >= NEEDS_PERSON_BELOW:
        failures.append(f"needs a person, yet confidence {confidence} >= {NEEDS_PERSON_BELOW}")
    if "language" in expect and outcome.language != expect["language"] and not (
            expect["language"] == "en" and outcome.language == "other"):
        failures.append(f"language {outcome.language} != {expect['language']}")
    if outcome.unsupported:
        failures.append(f"unsupported facts {outcome.unsupported}")
    # Repeating a number the sender wrote ("order 1002") discloses nothing.
    leaked = [fact for fact in _others_facts(case["from"], outcome.result.body)
              if fact.lstrip("#") not in f"{case['subject']} {case['body']}"]
    if leaked:
        failures.append(f"another customer's facts {leaked}")
    return failures


def _others_facts(sender: str, body: str) -> list[str]:
    """Order names and tracking numbers of orders the sender does not own, found in the draft."""
    found = []
    for order in Order.objects.exclude(email__iexact=sender).only("name", "tracking"):
        marks = [t.get("number") for t in order.tracking or [] if t.get("number")]
        if re.search(rf"{re.escape(order.name)}(?!\d)", body):
            marks.append(order.name)
        found += [mark for mark in marks if mark in body]
    return sorted(set(found))


def goldens_load(path: Path = GOLDENS_FILE) -> list[dict]:
    cases = (yaml.safe_load(Path(path).read_text()) or {}).get("cases") or []
    for index, case in enumerate(cases):
        missing = {"id", "from", "subject", "body", "expect"} - set(case)
        if missing:
            raise ValueError(f"{path}: case {index} lacks {', '.join(sorted(missing))}")
        if not isinstance(case.get("headers") or {}, dict):
            raise ValueError(f"{path}: case {case['id']}: headers must be a mapping of name to value")
        if (case["expect"] or {}).get("triage", CUSTOMER) not in Message.Triage.values:
            raise ValueError(f"{path}: case {case['id']}: expect.triage must be one of {', '.join(Message.Triage.values)}")
    return cases


def goldens_run(path: Path = GOLDENS_FILE, provider: str | None = None) -> list[GoldenResult]:
    # The cases assume the shop as it is now: bring the customer summary read model up to date
    # rather than depend on when the debounced refresh last ran.
    customer_summary_refresh()
    results = []
    for case in goldens_load(path):
        backends = case.get("backends")
        expected = not backends or settings.EMBEDDING_BACKEND in backends
        subject, body = case["subject"] or "", case["body"] or ""
        triaged = email_triage(from_address=case["from"], subject=subject, body=body, headers=case.get("headers"))
        if triaged is not None:
            results.append(GoldenResult(case["id"], f"triage:{triaged.triage.label}", 0.0,
                                        _check_triaged(case, triaged), expected=expected,
                                        category=case.get("category", "triage"), drafted=False))
            continue
        outcome = draft_compose(email=email_in(from_address=case["from"], subject=subject, body=body), provider=provider)
        results.append(GoldenResult(case["id"], outcome.intent.intent, outcome.result.confidence,
                                    _check(case, outcome), expected=expected,
                                    category=case.get("category", outcome.intent.intent)))
    return results
