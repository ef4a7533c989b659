"""Any OpenAI-compatible chat-completions endpoint (LLM_BASE_URL, LLM_API_KEY, LLM_MODEL).

The facts go in as sources with ids (S1, S2, …) and the email's requests as a numbered list (the
same list the grounded drafter answers). The model is asked for structured output
(`response_format` with a JSON schema, REPLY_SCHEMA): per request, the answer, the ids of the
sources it used and whether a person must take it. That answer is checked, not trusted:

- a request answered with no source id that was in the prompt, or marked `needs_person`, counts as
  not answered in the confidence's coverage, exactly like the grounded drafter's coverage;
- a source id that was not in the prompt is an unsupported fact (services caps the confidence);
- past replies (examples) are in the prompt for tone only: an answer that cites one as its source
  took a fact from another customer's reply, so that request counts as not answered and the draft
  is capped with the reason `past reply cited` (`examples_cited` in the notes), never silently used;
- the agent sees plain reply text: the answers joined, citation markers stripped, the style
  profile's greeting and sign-off around them.

A server that ignores the schema and answers plain text still gives a draft, capped with the reason
`unstructured` (its coverage cannot be known); one that refuses `response_format` (400) is asked
again without it. Transient failures (network, 429, 5xx) are retried with exponential backoff and
jitter; anything else is a ProviderError recorded on the model run.
References: https://platform.openai.com/docs/api-reference/chat/create and
https://platform.openai.com/docs/guides/structured-outputs
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict

import requests
from django.conf import settings
from django.utils import translation
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from assistants import confidence
from assistants.context import DraftContext, Source
from assistants.intents import IntentResult
from assistants.language import REPLY_LANGUAGES
from assistants.providers import ProviderError, ProviderResult, numbered_sources, prompt_fingerprint
from assistants.providers.grounded import style_apply
from assistants.providers.grounded_reply import Covered, source_name

SYSTEM_PROMPT = (
    "You draft replies for a shop's customer support team. Use ONLY the sources for facts "
    "(order status, tracking numbers, quantities, lead times, prices, dates, policies); each source has "
    "an id (S1, S2, …). Answer with one JSON object: `opening` (thanks, or an apology for a delay or "
    "damage), then `answers`, one per numbered request of the customer: the request's number, the answer, "
    "the ids of the sources the answer takes its facts from, and needs_person=true when the sources do not "
    "answer it (then say what the team will check; never guess), and `closing` (may be empty). No greeting "
    "and no sign-off (they are added by the style profile); no source ids or markers inside the text. "
    "Sources of kind 'example' are past replies to OTHER customers, shown for tone only: never take a "
    "fact, name, address or number from them, and never cite them."
)

# OpenAI's structured outputs in strict mode: every property required, no others.
REPLY_SCHEMA = {
    "name": "support_reply",
    "strict": True,
    "schema": {
        "type": "object",
        "additionalProperties": False,
        "required": ["opening", "answers", "closing"],
        "properties": {
            "opening": {"type": "string", "description": "thanks, or an apology for a delay or damage; no greeting"},
            "answers": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["request", "answer", "source_ids", "needs_person"],
                    "properties": {
                        "request": {"type": "integer", "description": "the request's number in the list"},
                        "answer": {"type": "string"},
                        "source_ids": {"type": "array", "items": {"type": "string"},
                                       "description": "ids of the sources the answer's facts come from (S1, S2, …)"},
                        "needs_person": {"type": "boolean",
                                         "description": "true when the sources do not answer this request"},
                    },
                },
            },
            "closing": {"type": "string", "description": "an optional last sentence before the sign-off"},
        },
    },
}
RESPONSE_FORMAT = {"type": "json_schema", "json_schema": REPLY_SCHEMA}

# "[2]", "[1, 3]", "[S1]", "[S1, S3]", "(S2)": the model's citations, never shown to the customer.
_CITATION = re.compile(r"\[(S?\d+(?:\s*,\s*S?\d+)*)\]|\((S\d+(?:\s*,\s*S\d+)*)\)")
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)

# The topic a request is called by in the draft's reasons, as the grounded drafter names it.
_TOPICS = {"availability": "stock", "shipping_policy": "shipping", "privacy": "privacy request",
           "general": "general question", "returns": "return policy"}


def citations_strip(text: str) -> str:
    """The model's text without its source markers, and without the space they leave before punctuation."""
    text = _CITATION.sub("", text)
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def source_id(n: int) -> str:
    return f"S{n}"


_LANGUAGE_NAMES = {"en": "English", "de": "German", "es": "Spanish", "fr": "French"}


class _Transient(Exception):
    pass


class _Refused(ProviderError):
    """A 4xx: permanent, but a 400 about `response_format` is worth one plain request."""

    def __init__(self, status: int, text: str):
        super().__init__(f"LLM endpoint refused the request: {status} {text[:200]}")
        self.status, self.text = status, text


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, (_Transient, requests.ConnectionError, requests.Timeout))


def _request_list(ctx: DraftContext, intent: IntentResult) -> list[tuple[str, str]]:
    """(text, fine intent) of each request, numbered from 1 in the prompt; an email with none is one request."""
    if ctx.requests:
        return [(r.text, r.intent) for r in ctx.requests]
    return [(ctx.email.subject or "the email above", intent.intent)]


def build_messages(ctx: DraftContext, intent: IntentResult) -> list[dict]:
    lines = []
    for n, source in numbered_sources(ctx):
        facts = json.dumps(source.facts, ensure_ascii=False, default=str)[:1500]
        if source.kind == "reply":  # scrubbed (context.py), and marked as what it is: someone else's reply
            lines.append(f"[{source_id(n)}] example (a past reply to another customer, tone only): {facts}")
        else:
            lines.append(f"[{source_id(n)}] {source.kind} {source.label}: {facts}")
    user = (f"Detected intent: {intent.intent}.\nSources:\n" + ("\n".join(lines) or "(none)")
            + f"\n\nCustomer email\nSubject: {ctx.email.subject}\n\n{ctx.email.body}")
    language = _LANGUAGE_NAMES.get(ctx.language, "English")
    numbered = "\n".join(f"{i}. {text} ({kind.replace('_', ' ')})"
                         for i, (text, kind) in enumerate(_request_list(ctx, intent), start=1))
    user += (f"\n\nWrite the reply in {language}, the customer's language. Answer each of the customer's "
             f"requests, by its number:\n{numbered}")
    if ctx.instruction:  # from our own agent, not the customer: it may change the answer, never the facts
        user += f"\n\nThe support agent rejected the previous draft and asks: {ctx.instruction}"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def _post(url: str, payload: dict) -> dict:
    # Read at call time, so LLM_MAX_RETRIES can change without a restart of the module.
    retrying = Retrying(retry=retry_if_exception(_is_transient), stop=stop_after_attempt(settings.LLM_MAX_RETRIES),
                        wait=wait_random_exponential(multiplier=0.2, max=8), reraise=True)
    return retrying(_post_once, url, payload)


def _post_once(url: str, payload: dict) -> dict:
    response = requests.post(url, json=payload, timeout=settings.LLM_TIMEOUT_SECONDS,
                             headers={"Authorization": f"Bearer {settings.LLM_API_KEY}"})
    if response.status_code == 429 or response.status_code >= 500:
        raise _Transient(f"LLM endpoint answered {response.status_code}")
    if response.status_code >= 400:
        raise _Refused(response.status_code, response.text)
    try:
        return response.json()
    except ValueError:
        raise ProviderError(f"LLM endpoint answered non-JSON: {response.text[:200]!r}") from None


def _complete(payload: dict) -> dict:
    url = settings.LLM_BASE_URL.rstrip("/") + "/chat/completions"
    try:
        try:
            return _post(url, payload)
        except _Refused as exc:
            # An older server (or a model without structured outputs) refuses the schema: ask in plain
            # text once; the answer is then drafted as unstructured.
            if exc.status != 400 or "response_format" not in payload or \
                    not re.search(r"response_format|json_schema|structured", exc.text, re.I):
                raise
            return _post(url, {k: v for k, v in payload.items() if k != "response_format"})
    except (_Transient, requests.RequestException) as exc:
        raise ProviderError(f"LLM endpoint failed after {settings.LLM_MAX_RETRIES} attempts: {exc}") from exc


def structured_answer(text: str) -> dict | None:
    """The reply object the schema asks for; None for plain text. JSON that does not fit is garbage."""
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1)
    if not stripped.startswith("{"):
        return None
    try:
        data = json.loads(stripped)
        answers = data["answers"]
        if not isinstance(answers, list) or not all(isinstance(data.get(k, ""), str) for k in ("opening", "closing")):
            raise ValueError("answers is not a list")
        for answer in answers:
            if isinstance(answer.get("request"), str) and answer["request"].strip().isdigit():
                answer["request"] = int(answer["request"])  # "1": a model that bends the schema a little
            if not (isinstance(answer.get("request"), int) and isinstance(answer.get("answer"), str)
                    and isinstance(answer.get("source_ids", []), list)
                    and isinstance(answer.get("needs_person", False), bool)):
                raise ValueError(f"an answer does not fit the schema: {str(answer)[:120]}")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ProviderError(f"LLM answer is JSON that does not fit the reply schema ({exc}): {text[:200]}") from None
    return data


def _topic(intent: str) -> str:
    return _TOPICS.get(intent, intent.replace("_", " "))


def _from_structured(data: dict, ctx: DraftContext, intent: IntentResult) -> dict:
    """Lines of the reply, its coverage per request, the sources used and the ids cited that were not given."""
    by_id: dict[str, Source] = {source_id(n): s for n, s in numbered_sources(ctx)}
    wanted = _request_list(ctx, intent)
    answers = sorted(data["answers"], key=lambda a: a["request"])
    unknown: list[str] = []
    examples: list[str] = []  # ids of past replies the model gave as a source: not evidence
    used: list[Source] = []
    per_request: dict[int, list[dict]] = {}
    lines = [citations_strip(data.get("opening") or "")]
    for answer in answers:
        ids = [str(i).strip().strip("[]") for i in answer.get("source_ids") or []]
        given = [by_id[i] for i in ids if i in by_id and by_id[i].kind != "reply"]  # an example is never a source
        cited_examples = [i for i in ids if i in by_id and by_id[i].kind == "reply"]
        examples += cited_examples
        unknown += [i for i in ids if i not in by_id]
        for source in given:
            if source not in used:
                used.append(source)
        lines.append(citations_strip(answer["answer"]))
        per_request.setdefault(answer["request"], []).append({**answer, "sources": given, "examples": cited_examples})
    lines.append(citations_strip(data.get("closing") or ""))
    coverage = []
    for number, (_text, kind) in enumerate(wanted, start=1):
        given = per_request.get(number, [])
        sources = [s for a in given for s in a["sources"]]
        answered = bool(given) and bool(sources) and not any(a.get("needs_person") or a["examples"] for a in given) \
            and all(a["answer"].strip() for a in given)
        coverage.append(asdict(Covered(_topic(kind), answered, kind, list(dict.fromkeys(source_name(s) for s in sources)))))
    return {"lines": [line for line in lines if line], "coverage": coverage, "used": used,
            "unknown": list(dict.fromkeys(unknown)), "examples": list(dict.fromkeys(examples)),
            "answers": [{"request": a["request"], "source_ids": list(a.get("source_ids") or []),
                         "needs_person": bool(a.get("needs_person"))} for a in answers],
            "stray": sorted({a["request"] for a in answers} - set(range(1, len(wanted) + 1)))}


def draft_with_openai(ctx: DraftContext, intent: IntentResult) -> ProviderResult:
    if not settings.LLM_BASE_URL:
        raise ProviderError("LLM_PROVIDER=openai needs LLM_BASE_URL")

    payload = {"model": settings.LLM_MODEL, "temperature": settings.LLM_TEMPERATURE,
               "messages": build_messages(ctx, intent), "response_format": RESPONSE_FORMAT}
    data = _complete(payload)
    try:
        text = data["choices"][0]["message"]["content"]
        usage = data.get("usage") or {}
        if not isinstance(text, str) or not text.strip():
            raise ValueError("empty content")
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ProviderError(f"LLM answer has no usable content ({exc}): {str(data)[:200]}") from None
    structured = structured_answer(text)
    first_name = ctx.customer.facts.get("first_name", "") if ctx.customer else ""
    language = ctx.language if ctx.language in REPLY_LANGUAGES else "en"
    if structured is not None:
        found = _from_structured(structured, ctx, intent)
        used, lines = found["used"], found["lines"]
        value = confidence.from_coverage(found["coverage"], ctx.requests, intent)
        notes = {"structured": True, "coverage": found["coverage"], "answers": found["answers"],
                 "unknown_source_ids": found["unknown"], "examples_cited": found["examples"],
                 "stray_requests": found["stray"],
                 "cited": [source_id(n) for n, s in numbered_sources(ctx) if s in used]}
    else:
        # Plain text: its [n] / [Sn] markers say which sources it used; what it covers is unknown
        # (services caps it with the reason `unstructured`).
        numbered = dict(numbered_sources(ctx))
        cited = sorted({int(n) for groups in _CITATION.findall(text) for group in groups
                        for n in re.findall(r"\d+", group) if int(n) in numbered})
        used, lines = [numbered[n] for n in cited if numbered[n].kind != "reply"], [citations_strip(text)]
        value = intent.confidence if used else min(intent.confidence, 0.4)
        notes = {"structured": False, "cited": [source_id(n) for n in cited],
                 "examples_cited": [source_id(n) for n in cited if numbered[n].kind == "reply"]}
    with translation.override(language):
        body, removed = style_apply(lines, ctx.style, first_name)
    notes["banned_removed"], notes["model_text"] = removed, "\n\n".join(lines)
    return ProviderResult(
        body=body, confidence=round(value, 3), used=used,
        model_slug=str(data.get("model") or settings.LLM_MODEL),
        prompt_hash=prompt_fingerprint(ctx, intent.intent, settings.LLM_MODEL),
        temperature=settings.LLM_TEMPERATURE,
        tokens_in=int(usage.get("prompt_tokens") or 0), tokens_out=int(usage.get("completion_tokens") or 0),
        notes=notes, follows_instructions=True,
    )
