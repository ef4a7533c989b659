"""Drafting: one inbound message in, one pending draft with its model run out.

Reads and the provider call happen outside any transaction (a slow LLM must not hold row
locks); only the final write of the model run and the draft is atomic. A failing provider
leaves a failed model run with its error, and the grounded drafter still gives the agent a
low-confidence starting point, so no email waits without a draft. An unreachable Chroma gives
a draft without site chunks and past replies (low confidence, the error on the run), unless
the caller would rather retry (`wait_for_retrieval`, the task's early attempts). Anything else
that goes wrong is recorded as a failed model run with a `draft.failed` audit row, then raised
for the task to retry (transient) or to leave to the `ensure_drafts` sweep.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction

from assistants import confidence, intents
from assistants.context import DraftContext, EmailIn, context_build, email_in
from assistants.language import OTHER, language_detect
from assistants.models import ModelRun
from assistants.providers import ProviderError, ProviderResult
from assistants.providers.grounded import MODEL_SLUG as GROUNDED_SLUG
from assistants.providers.grounded import draft_grounded
from assistants.providers.openai_compat import draft_with_openai
from assistants.request_refs import order_refs_find
from assistants.requests import CustomerRequest, email_requests
from assistants.triage import CUSTOMER_RESULT, TriagedOutcome, TriageResult, message_triage
from assistants.vectorstore import VectorStoreError
from catalog.demand import product_request_record, stockout_request_record, variant_request_record
from conversations.models import Draft, Message
from conversations.selectors import draft_rejection_reason
from conversations.services.drafts import (
    SKIP_NEWER_INBOUND,
    draft_create,
    draft_lock_and_check,
    draft_skip_reason,
    draft_skip_record,
)
from omnichannel.audit import audit_log_write
from omnichannel.metrics import draft_latency_seconds

logger = logging.getLogger(__name__)
_FACT_TOKEN = re.compile(r"[\w-]*\d[\w.-]*")
_CITATION = re.compile(r"\[S?\d{1,3}\]")
# A draft made without a provider or without retrieval is a starting point the agent must check.
DEGRADED_CONFIDENCE = 0.3


@dataclass
class DraftOutcome:
    intent: intents.IntentResult
    context: DraftContext
    result: ProviderResult
    unsupported: list[str]
    failure: str = ""
    draft: Draft | None = None
    model_run: ModelRun | None = None
    triage: TriageResult = CUSTOMER_RESULT  # drafted, so triage found a customer's email
    # Every request of the email with its fine intent; `intent` is the first one's, for the drafter.
    requests: tuple[CustomerRequest, ...] = ()
    language: str = "en"  # the customer's (en, de, es, fr, or other: replied to in English)
    reasons: confidence.Reasons | None = None

    @property
    def confidence(self) -> float:
        return self.draft.confidence if self.draft else self.result.confidence

    @property
    def retrieval_error(self) -> str:
        return self.context.retrieval_error

    def as_json(self) -> dict:
        return {"triage": self.triage.as_json(), "intent": self.intent.intent, "intent_confidence": self.intent.confidence,
                "confidence": self.confidence, "body": self.result.body, "model": self.result.model_slug,
                "sources": [s.as_json() for s in self.result.used], "unsupported_facts": self.unsupported,
                "missing": self.result.notes.get("missing", []), "provider_error": self.failure,
                "retrieval_error": self.retrieval_error,
                "draft_id": self.draft.pk if self.draft else None,
                "model_run_id": self.model_run.pk if self.model_run else None,
                "language": self.language, "reasons": self.reasons.as_json() if self.reasons else {},
                "requests": self.requests_json()}

    def requests_json(self) -> list[dict]:
        """Each request with its intent and whether the draft answered it (coverage is per request, in order)."""
        coverage = self.result.notes.get("coverage") or []
        out = []
        for i, request in enumerate(self.requests):
            data = request.as_json()
            if i < len(coverage):
                data["answered"], data["topic"] = coverage[i]["answered"], coverage[i]["topic"]
                data["sources"] = coverage[i].get("sources", [])  # what the answer took its facts from
            out.append(data)
        return out


def unsupported_facts(body: str, ctx: DraftContext, result: ProviderResult) -> list[str]:
    """Numbers in the draft (tracking numbers, quantities, prices, dates) found in no source it lists
    and not in the customer's own email. The grounded drafter should always return [].

    Past replies (`reply` sources) are examples of tone, written to other customers: a number found
    only in one is another customer's fact, never evidence, even when the draft cites it."""
    evidence = (json.dumps([s.as_json() for s in result.used if s.kind != "reply"], default=str)
                + ctx.email.subject + ctx.email.body)
    style = json.dumps(ctx.style)
    body = _CITATION.sub(" ", body)  # "[2]" names a source; it is not a fact
    return sorted({tok.strip(".-") for tok in _FACT_TOKEN.findall(body)
                   if tok.strip(".-") and tok.strip(".-") not in evidence and tok.strip(".-") not in style})


def _cost(model: str, tokens_in: int, tokens_out: int) -> tuple[Decimal, bool]:
    prices = settings.LLM_PRICES_PER_MTOK.get(model)
    if prices is None:
        return Decimal(0), False
    return (Decimal(str(prices[0])) * tokens_in + Decimal(str(prices[1])) * tokens_out) / Decimal(1_000_000), True


def draft_error_is_transient(exc: BaseException) -> bool:
    """Worth a retry: the database or the Chroma server dropped the connection, not a bug or bad data."""
    if isinstance(exc, VectorStoreError):
        return exc.transient
    return isinstance(exc, (OperationalError, InterfaceError))


def provider_for(name: str):
    """The drafting function of a provider name (settings.LLM_PROVIDER): `openai` or the grounded drafter."""
    return draft_with_openai if name == "openai" else draft_grounded


REDRAFT_UNFOLLOWED_CONFIDENCE = 0.45  # below "medium": the agent's instruction needs their own check


def draft_compose(*, email: EmailIn, agent_user_id: int | None = None, provider: str | None = None,
                  wait_for_retrieval: bool = False, instruction: str = "") -> DraftOutcome:
    """Requests, context, intent and provider for one email; writes nothing (used by `draft_reply --dry-run`).

    With `wait_for_retrieval`, a Chroma connection error is raised (so the task retries) instead
    of drafting without site chunks and past replies."""
    parsed = email_requests(subject=email.subject, body=email.body)
    # A reply that names no order ("any news?") is about the one in the history it quotes.
    order_refs = parsed.order_names() or order_refs_find(email.body)
    ctx = context_build(email=email, agent_user_id=agent_user_id, order_refs=order_refs)
    ctx.instruction = instruction
    if ctx.retrieval_error and ctx.retrieval_transient and wait_for_retrieval:
        raise VectorStoreError(ctx.retrieval_error, transient=True)
    parsed = parsed.with_products([(s.facts["sku"], s.facts["title"]) for s in ctx.inventory])
    language = language_detect(parsed.text or parsed.subject, fallback=parsed.language)
    ctx.requests, ctx.language = parsed.requests, language if language != OTHER else "en"
    ctx.language_supported = language != OTHER
    intent = intents.intent_for_request(parsed.primary)
    failure = ""
    try:
        result = provider_for(provider or settings.LLM_PROVIDER)(ctx, intent)
    except ProviderError as exc:
        failure = str(exc)
        logger.warning("drafting provider failed, falling back to the grounded drafter: %s", exc)
        result = draft_grounded(ctx, intent)
    unsupported = unsupported_facts(result.body, ctx, result)
    # A source id the model cites that the prompt never gave is a fact with nothing behind it.
    unsupported += [f"source {sid}" for sid in result.notes.get("unknown_source_ids") or []]
    # A model may answer in another language than asked (its own text is judged, not our greeting around
    # it); the grounded drafter writes from our catalogs.
    written_in = "" if failure or (provider or settings.LLM_PROVIDER) == "grounded" else \
        language_detect(result.notes.get("model_text") or result.body, fallback=ctx.language)
    reasons = _confidence_caps(result, ctx, language=language, failure=failure, unsupported=unsupported,
                               written_in=written_in)
    return DraftOutcome(intent=intent, context=ctx, result=result, unsupported=unsupported, failure=failure,
                        requests=parsed.requests, language=language, reasons=reasons)


def _confidence_caps(result: ProviderResult, ctx: DraftContext, *, language: str, failure: str,
                     unsupported: list[str], written_in: str = "") -> confidence.Reasons:
    """The reasons for the draft's confidence, and the caps that lower it (assistants/confidence.py)."""
    reasons = confidence.reasons_from(result.notes.get("coverage") or [], ctx.requests, language=language,
                                      cited=[f"{s.kind} {s.id}" for s in result.used]
                                      if not result.notes.get("coverage") else ())
    value = result.confidence
    if failure:
        value = reasons.cap(value, limit=DEGRADED_CONFIDENCE, reason="provider failed", detail=failure[:200])
    if ctx.retrieval_error:
        value = reasons.cap(value, limit=DEGRADED_CONFIDENCE, reason="retrieval unavailable")
    if ctx.email.truncated:
        value = reasons.cap(value, limit=DEGRADED_CONFIDENCE, reason="email cut to budget")
    if language == OTHER:
        value = reasons.cap(value, limit=confidence.CAP_LANGUAGE, reason="language",
                            detail="written in a language we do not reply in: drafted in English")
    elif written_in and written_in != ctx.language:
        value = reasons.cap(value, limit=confidence.CAP_LANGUAGE, reason="language",
                            detail=f"the reply is written in {written_in}, the customer wrote in {ctx.language}")
    if result.notes.get("structured") is False:
        # The model answered plain text, not the reply schema: which requests it covered is unknown.
        value = reasons.cap(value, limit=confidence.CAP_UNSTRUCTURED, reason="unstructured",
                            detail="the model did not answer with the reply schema")
    if ctx.instruction and not result.follows_instructions:
        # The offline drafter cannot follow an agent's free-text instruction: it redrafts, with the
        # agent's own style, but the agent must check it against what they asked for.
        value = reasons.cap(value, limit=REDRAFT_UNFOLLOWED_CONFIDENCE, reason="agent's instruction not followed")
    if result.notes.get("examples_cited"):
        # Past replies were written to other customers: tone only. A fact the model says it took from
        # one is not grounded in the shop's sources, whatever its wording.
        value = reasons.cap(value, limit=confidence.CAP_UNSUPPORTED, reason="past reply cited",
                            detail="a past reply to another customer given as a source: "
                                   + ", ".join(result.notes["examples_cited"][:5]))
    if unsupported:
        value = reasons.cap(value, limit=confidence.CAP_UNSUPPORTED, reason="unsupported facts",
                            detail=", ".join(unsupported[:5]))
    result.confidence = round(value, 3)
    return reasons


def _run_error(outcome: DraftOutcome) -> str:
    errors = [outcome.failure] if outcome.failure else []
    if outcome.retrieval_error:
        errors.append(f"retrieval unavailable, drafted without site chunks and past replies: {outcome.retrieval_error}")
    return "\n".join(errors)


def _record_run(*, message: Message, outcome: DraftOutcome, latency_ms: int, provider: str) -> ModelRun:
    result = outcome.result
    cost, priced = _cost(result.model_slug, result.tokens_in, result.tokens_out)
    return ModelRun.objects.create(
        conversation_id=message.conversation_id, message=message, provider=provider,
        model_slug=result.model_slug, prompt_hash=result.prompt_hash, temperature=result.temperature,
        tokens_in=result.tokens_in, tokens_out=result.tokens_out, cost_usd=cost, latency_ms=latency_ms,
        intent=outcome.intent.intent, sources=[s.as_json() for s in result.used],
        evaluation={"unsupported_facts": outcome.unsupported, "missing": result.notes.get("missing", []),
                    "banned_removed": result.notes.get("banned_removed", []), "priced": priced,
                    "intent_scores": outcome.intent.scores, "requests": outcome.requests_json(),
                    "fallback_from": provider if outcome.failure else "", "language": outcome.language,
                    "reasons": outcome.reasons.as_json() if outcome.reasons else {},
                    "retrieval_error": outcome.retrieval_error},
        input_truncated=outcome.context.email.truncated,
        status=ModelRun.Status.FAILED if outcome.failure else ModelRun.Status.OK, error=_run_error(outcome),
    )


def _record_failure(*, message: Message, provider: str, exc: BaseException, latency_ms: int) -> ModelRun | None:
    """No draft came out: keep the error on a failed model run and in the audit log. Best effort,
    since the database may be what failed; the task's retry and the ensure_drafts sweep still
    bring the message back."""
    error = f"{type(exc).__name__}: {exc}"[:4000]
    transient = draft_error_is_transient(exc)
    try:
        with transaction.atomic():
            run = ModelRun.objects.create(
                conversation_id=message.conversation_id, message=message, provider=provider,
                model_slug=settings.LLM_MODEL if provider == "openai" else GROUNDED_SLUG, prompt_hash="",
                latency_ms=latency_ms, status=ModelRun.Status.FAILED, error=error,
                evaluation={"exception": type(exc).__name__, "transient": transient},
            )
            audit_log_write(
                event_type="draft.failed",
                payload={"message_id": message.pk, "conversation_id": message.conversation_id,
                         "model_run_id": run.pk, "provider": provider, "error": error, "transient": transient},
                integration="assistant", obj=run,
            )
        return run
    except Exception:  # noqa: BLE001 - recording must never hide the original error
        logger.exception("could not record the failed draft of message %s", message.pk)
        return None


def draft_generate(*, message_id: int, refresh: bool = False, provider: str | None = None,
                   wait_for_retrieval: bool = False, redraft_of: int | None = None,
                   agent_user_id: int | None = None) -> DraftOutcome | TriagedOutcome | None:
    """Draft a reply to one inbound message, at most once (conversations/services/drafts.py says
    when a message gets no new draft). `refresh` (a new correction, a manual regenerate) replaces
    the message's draft only while it is still pending. `redraft_of` is an agent's "reject and
    redraft": the rejection's reason becomes an instruction to the drafter, and `agent_user_id`'s
    style profile (when they have one) writes it. None when nothing was drafted; the reason is a
    `draft.skipped` audit row.

    Raises whatever stopped the draft, after recording it (`_record_failure`)."""
    message = Message.objects.select_related("conversation").filter(pk=message_id).first()
    if message is None:
        logger.warning("generate_draft: message %s no longer exists (erased or archived); nothing to draft", message_id)
        return None
    # A cheap early look, so a repeated delivery does not compose (and pay the provider) for nothing.
    skip = draft_skip_reason(message_id=message.pk, refresh=refresh, redraft_of=redraft_of)
    for _ in range(3):  # a newer message not triaged yet may be an auto-reply that must not make this one stale
        newer = skip.detail.get("newer_message_id") if skip is not None and skip.reason == SKIP_NEWER_INBOUND else None
        newer_message = Message.objects.filter(pk=newer, triage_label="").first() if newer else None
        if newer_message is None or message_triage(message=newer_message) is None:
            break
        skip = draft_skip_reason(message_id=message.pk, refresh=refresh, redraft_of=redraft_of)
    if skip is not None:
        draft_skip_record(message_id=message.pk, skip=skip, refresh=refresh)
        return None
    # Triage first: an auto-reply, bounce, spam or privacy request is recorded as such, and not drafted.
    triaged = message_triage(message=message) if redraft_of is None else None  # the agent has read it
    if triaged is not None:
        return triaged
    instruction = draft_rejection_reason(draft_id=redraft_of) if redraft_of else ""
    provider = provider or settings.LLM_PROVIDER
    started = time.perf_counter()
    try:
        outcome = draft_compose(
            email=email_in(from_address=message.from_address, subject=message.subject, body=message.body,
                           body_html=message.body_html, attachments=len(message.attachments or [])),
            provider=provider, wait_for_retrieval=wait_for_retrieval, agent_user_id=agent_user_id,
            instruction=instruction,
        )
        latency_ms = int((time.perf_counter() - started) * 1000)
        with transaction.atomic():
            # The answer that counts, under the conversation lock: another worker may have drafted this
            # message while we composed, a newer message or a reply from Zoho may have arrived, or the
            # customer may have been erased. Checked before the model run is written, so a refused draft
            # leaves no run with the email's facts behind; draft_create checks again under the same lock.
            if draft_lock_and_check(conversation_id=message.conversation_id, message_id=message.pk,
                                    refresh=refresh, redraft_of=redraft_of) is not None:
                return None
            outcome.model_run = _record_run(message=message, outcome=outcome, latency_ms=latency_ms,
                                            provider=provider)
            outcome.draft = draft_create(
                conversation_id=message.conversation_id, body=outcome.result.body,
                confidence=outcome.result.confidence, intent=outcome.intent.intent, reply_to_id=message.pk,
                refresh=refresh, redraft_of=redraft_of, model_run=outcome.model_run,
                correction_ids=[int(s.id) for s in outcome.result.used if s.kind == "correction"],
                provider_error=outcome.failure, retrieval_error=outcome.retrieval_error,
            )
    except Exception as exc:
        _record_failure(message=message, provider=provider, exc=exc,
                        latency_ms=int((time.perf_counter() - started) * 1000))
        raise
    draft_latency_seconds.observe(latency_ms / 1000)
    demand = {"text": f"{message.subject}. {message.body}", "conversation_id": message.conversation_id,
              "customer_id": message.conversation.customer_id, "requested_at": message.sent_at, "message_id": message.pk}
    topics = {c["topic"] for c in outcome.result.notes.get("coverage") or []}
    if outcome.intent.intent == intents.PRODUCT_REQUEST or "product request" in topics:
        # Demand mining, each message counted once: something the shop does not sell...
        product_request_record(**demand)
    elif outcome.intent.intent == intents.AVAILABILITY and outcome.context.inventory:
        # ...or the item asked about (the best match) is out of stock.
        stockout_request_record(item_id=int(outcome.context.inventory[0].id), **demand)
    for wanted in outcome.result.notes.get("product_requests") or []:
        # ...or a size or colour of an item it sells that it does not make.
        variant_request_record(description=wanted, **{k: v for k, v in demand.items() if k != "text"})
    return outcome
