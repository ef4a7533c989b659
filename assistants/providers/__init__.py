"""Drafting providers: `grounded` (offline, deterministic) and `openai` (any compatible endpoint)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from assistants.context import DraftContext, Source


class ProviderError(Exception):
    """A provider could not produce a draft (timeout, refusal, garbage): recorded on the model run."""


@dataclass
class ProviderResult:
    body: str
    confidence: float
    used: list[Source]
    model_slug: str
    prompt_hash: str
    temperature: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    notes: dict = field(default_factory=dict)
    follows_instructions: bool = False  # can follow an agent's free-text redraft instruction


def numbered_sources(ctx: DraftContext) -> list[tuple[int, Source]]:
    return list(enumerate(ctx.all_sources(), start=1))


def prompt_fingerprint(ctx: DraftContext, intent: str, model: str) -> str:
    """A stable hash of everything the provider saw: equal inputs give equal hashes."""
    material = {"model": model, "intent": intent, "subject": ctx.email.subject, "body": ctx.email.body,
                "sources": [s.as_json() for s in ctx.all_sources()], "style": ctx.style}
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)  # the usual ~4 characters per token of English text

