"""Sentence vectors for grouping customers' questions, from the app that owns the embedding backend.

The faq app may not import `assistants` (ARCHITECTURE.md), and `assistants` owns the embedding
backend (EMBEDDING_BACKEND, assistants/vectorstore.py). So assistants registers its embedder here
in its AppConfig.ready(), as it registers its health check with omnichannel. The embedder answers
None when the configured backend is `lexical`: hashed words give nothing word overlap does not,
so FAQ proposals are then grouped by word overlap (faq/clustering.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# texts -> one unit vector per text (rows), or None: "no sentence embeddings here, use word overlap".
Embedder = Callable[[Sequence[str]], "np.ndarray | None"]


@dataclass
class _Registered:
    name: Callable[[], str] | None = None
    embed: Embedder | None = None


_registered = _Registered()


def question_embedder_register(embed: Embedder, *, name: Callable[[], str]) -> None:
    """`name()` says which backend the vectors come from (read when used: settings may change)."""
    _registered.embed, _registered.name = embed, name


def question_vectors(texts: Sequence[str]) -> tuple[np.ndarray | None, str]:
    """(unit vectors, backend name), or (None, "words") when nothing registered gives vectors."""
    if _registered.embed is None or not texts:
        return None, "words"
    vectors = _registered.embed(list(texts))
    if vectors is None:
        return None, "words"
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms), _registered.name() if _registered.name else "vectors"
