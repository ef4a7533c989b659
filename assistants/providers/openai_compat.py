"""Any OpenAI-compatible chat-completions endpoint (LLM_BASE_URL, LLM_API_KEY, LLM_MODEL).

The facts go in as numbered sources and the model is told to use only them and to cite them
as [n]; the cited numbers decide which sources the draft lists. Transient failures (network,
429, 5xx) are retried with exponential backoff and jitter; anything else is a ProviderError
recorded on the model run. Reference: https://platform.openai.com/docs/api-reference/chat/create
"""

from __future__ import annotations

import json
import re

import requests
from django.conf import settings
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from assistants.context import DraftContext
from assistants.intents import IntentResult
from assistants.providers import ProviderError, ProviderResult, numbered_sources, prompt_fingerprint
from assistants.providers.grounded import style_apply

SYSTEM_PROMPT = (
    "You draft replies for a shop's customer support team. Use ONLY the numbered sources for facts "
    "(order status, tracking numbers, quantities, lead times, prices, dates, policies). Cite each fact "
    "as [n]. If a fact is missing, say what the team will check; never guess. Write plain text, no "
    "greeting and no sign-off (they are added by the style profile). Sources of kind 'example' are past "
    "replies to OTHER customers, shown for tone only: never take a fact, name, address or number from them."
)


# "[2]", "[1, 3]", "[1][2]": the model's citations, recorded on the run, never shown to the customer.
_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def citations_strip(text: str) -> str:
    """The model's text without its source markers, and without the space they leave before punctuation."""
    text = _CITATION.sub("", text)
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


_LANGUAGE_NAMES = {"en": "English", "de": "German", "es": "Spanish", "fr": "French"}


class _Transient(Exception):
    pass


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, (_Transient, requests.ConnectionError, requests.Timeout))


def build_messages(ctx: DraftContext, intent: IntentResult) -> list[dict]:
    lines = []
    for n, source in numbered_sources(ctx):
        facts = json.dumps(source.facts, ensure_ascii=False, default=str)[:1500]
        if source.kind == "reply":  # scrubbed (context.py), and marked as what it is: someone else's reply
            lines.append(f"[{n}] example (a past reply to another customer, tone only): {facts}")
        else:
            lines.append(f"[{n}] {source.kind} {source.label}: {facts}")
    user = (f"Detected intent: {intent.intent}.\nSources:\n" + ("\n".join(lines) or "(none)")
            + f"\n\nCustomer email\nSubject: {ctx.email.subject}\n\n{ctx.email.body}")
    language = _LANGUAGE_NAMES.get(ctx.language, "English")
    user += (f"\n\nWrite the reply in {language}, the customer's language. Answer each of the customer's "
             f"requests: {'; '.join(r.text for r in ctx.requests) or 'the email above'}.")
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
        raise ProviderError(f"LLM endpoint refused the request: {response.status_code} {response.text[:200]}")
    try:
        return response.json()
    except ValueError:
        raise ProviderError(f"LLM endpoint answered non-JSON: {response.text[:200]!r}") from None


def draft_with_openai(ctx: DraftContext, intent: IntentResult) -> ProviderResult:
    if not settings.LLM_BASE_URL:
        raise ProviderError("LLM_PROVIDER=openai needs LLM_BASE_URL")

    payload = {"model": settings.LLM_MODEL, "temperature": settings.LLM_TEMPERATURE,
               "messages": build_messages(ctx, intent)}
    try:
        data = _post(settings.LLM_BASE_URL.rstrip("/") + "/chat/completions", payload)
    except (_Transient, requests.RequestException) as exc:
        raise ProviderError(f"LLM endpoint failed after {settings.LLM_MAX_RETRIES} attempts: {exc}") from exc
    try:
        text = data["choices"][0]["message"]["content"]
        usage = data.get("usage") or {}
        if not isinstance(text, str) or not text.strip():
            raise ValueError("empty content")
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ProviderError(f"LLM answer has no usable content ({exc}): {str(data)[:200]}") from None
    numbered = dict(numbered_sources(ctx))
    cited = sorted({int(n) for group in _CITATION.findall(text) for n in re.findall(r"\d+", group)
                    if int(n) in numbered})
    first_name = ctx.customer.facts.get("first_name", "") if ctx.customer else ""
    body, removed = style_apply([citations_strip(text)], ctx.style, first_name)
    confidence = intent.confidence if cited else min(intent.confidence, 0.4)
    return ProviderResult(
        body=body, confidence=round(confidence, 3), used=[numbered[n] for n in cited],
        model_slug=str(data.get("model") or settings.LLM_MODEL),
        prompt_hash=prompt_fingerprint(ctx, intent.intent, settings.LLM_MODEL),
        temperature=settings.LLM_TEMPERATURE,
        tokens_in=int(usage.get("prompt_tokens") or 0), tokens_out=int(usage.get("completion_tokens") or 0),
        notes={"cited": cited, "banned_removed": removed}, follows_instructions=True,
    )
