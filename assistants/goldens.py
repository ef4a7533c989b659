"""Golden cases: realistic emails with structured expectations, checked without writing anything."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.conf import settings

from assistants.context import email_in
from assistants.services import draft_compose
from customers.selectors import customer_summary_refresh

GOLDENS_FILE = Path(settings.BASE_DIR) / "goldens" / "qa.yaml"


@dataclass
class GoldenResult:
    case_id: str
    intent: str
    confidence: float
    failures: list[str] = field(default_factory=list)
    # False for a case that lists the embedding backends it needs (`backends:`) and the current one
    # is not among them: it is still run and shown, but not counted in the pass rate.
    expected: bool = True

    @property
    def passed(self) -> bool:
        return not self.failures


def _check(case: dict, outcome) -> list[str]:
    expect = case.get("expect") or {}
    body = outcome.result.body.lower()
    failures = []
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
    if outcome.unsupported:
        failures.append(f"unsupported facts {outcome.unsupported}")
    return failures


def goldens_load(path: Path = GOLDENS_FILE) -> list[dict]:
    cases = (yaml.safe_load(Path(path).read_text()) or {}).get("cases") or []
    for index, case in enumerate(cases):
        missing = {"id", "from", "subject", "body", "expect"} - set(case)
        if missing:
            raise ValueError(f"{path}: case {index} lacks {', '.join(sorted(missing))}")
    return cases


def goldens_run(path: Path = GOLDENS_FILE, provider: str | None = None) -> list[GoldenResult]:
    # The cases assume the shop as it is now: bring the customer summary read model up to date
    # rather than depend on when the debounced refresh last ran.
    customer_summary_refresh()
    results = []
    for case in goldens_load(path):
        outcome = draft_compose(email=email_in(from_address=case["from"], subject=case["subject"] or "",
                                               body=case["body"] or ""), provider=provider)
        backends = case.get("backends")
        results.append(GoldenResult(case["id"], outcome.intent.intent, outcome.result.confidence,
                                    _check(case, outcome),
                                    expected=not backends or settings.EMBEDDING_BACKEND in backends))
    return results
