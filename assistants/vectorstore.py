"""The retrieval index: Chroma collections derived from Postgres and the blob store.

Chroma is only a derived index (ARCHITECTURE.md): every collection can be rebuilt from
snapshots, FAQ entries and approved replies (`manage.py rehydrate_chroma`), so nothing here
is the system of record. All access goes through this module so the client, the embedding
backend and the collection names are chosen in one place.

- Embedded `PersistentClient` at CHROMA_PATH by default; `HttpClient` when CHROMA_HOST is set.
  The embedded store is one process's file: production runs Chroma as a server.
- EMBEDDING_BACKEND: `lexical` (default; offline and deterministic, a hashed bag of words and
  word pairs, good enough for shop vocabulary: skus, product names, order words), `minilm`
  (all-MiniLM-L6-v2 through sentence-transformers from a local directory, EMBEDDING_MODEL_PATH),
  or `chroma-default` (Chroma's own model, which downloads at first use: online installs only).
- Collection names carry the backend, because vectors of different backends cannot be mixed.
- Forgetting for good (`index_compact`): Chroma keeps what was written in its own log (the
  `embeddings_queue` table of chroma.sqlite3) until the collection is flushed, and SQLite keeps
  deleted rows' bytes in free pages, so a deleted document stays on disk. A compaction rewrites the
  collection from what it still holds, then VACUUMs the embedded store's file, removes the folders
  of segments no collection uses, and zeroes the vector files' spare capacity (Chroma writes it
  from uninitialized memory: assistants/vectorstore_files.py). A Chroma server's disk is its own: run
  `chroma vacuum` there (README).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from assistants.vectorstore_files import embedded_store_vacuum

logger = logging.getLogger(__name__)

SITE = "site_chunks"
FAQ = "faq_entries"
REPLIES = "approved_replies"
COLLECTIONS = (SITE, FAQ, REPLIES)

LEXICAL_DIMENSIONS = 512
_WORD = re.compile(r"[\w#-]+", re.UNICODE)


class VectorStoreError(Exception):
    """Chroma could not answer. `transient` when it is a connection problem worth retrying (a server
    restarting); False for a broken store or configuration, which a retry will not fix."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def _is_connection_error(exc: BaseException) -> bool:
    import httpx  # chromadb's HTTP client, loaded with chromadb (heavy: on first use)

    seen: BaseException | None = exc
    while seen is not None:
        # HttpClient reports a refused connection as ValueError("Could not connect to a Chroma server...")
        # with the httpx error only as its __context__, so the whole chain is checked.
        if isinstance(seen, (httpx.TransportError, ConnectionError, TimeoutError)):
            return True
        if "Could not connect to a Chroma server" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _where() -> str:
    return f"CHROMA_HOST={settings.CHROMA_HOST}:{settings.CHROMA_PORT}" if settings.CHROMA_HOST \
        else f"CHROMA_PATH={settings.CHROMA_PATH}"


@contextmanager
def _chroma_errors(action: str) -> Iterator[None]:
    """One error type for callers (the drafter degrades or retries on it), naming the store that failed."""
    try:
        yield
    except (VectorStoreError, ImproperlyConfigured, SoftTimeLimitExceeded):
        raise  # a task's soft time limit is the task's to handle (retried once), not a store failure
    except Exception as exc:  # chromadb raises ValueError, InternalError, httpx and OS errors alike
        raise VectorStoreError(f"Chroma {action} failed ({_where()}): {type(exc).__name__}: {exc}",
                               transient=_is_connection_error(exc)) from exc


@dataclass(frozen=True)
class IndexItem:
    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    id: str
    text: str
    metadata: dict[str, Any]
    score: float  # cosine similarity clamped to [0, 1]; higher is closer


def lexical_vector(text: str) -> list[float]:
    words = [w for w in _WORD.findall(text.lower()) if len(w) > 1]
    features = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    counts: dict[int, float] = {}
    for feature in features:
        # blake2b, not hash(): the same text must give the same vector in every process.
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        slot = int.from_bytes(digest[:4], "little") % LEXICAL_DIMENSIONS
        sign = 1.0 if digest[4] & 1 else -1.0
        counts[slot] = counts.get(slot, 0.0) + sign
    vector = np.zeros(LEXICAL_DIMENSIONS, dtype=np.float32)
    for slot, value in counts.items():
        vector[slot] = math.copysign(1 + math.log(abs(value)), value) if value else 0.0
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:
        vector[0] = 1.0  # an empty text still needs a valid unit vector
        norm = 1.0
    return (vector / norm).tolist()


def lexical_similarity(a: str, b: str) -> float:
    """Cosine similarity of two texts' lexical vectors, for small sets scored without an index."""
    return float(np.dot(lexical_vector(a), lexical_vector(b)))


def sentence_vectors(texts: list[str]) -> np.ndarray | None:
    """Unit vectors of the configured backend's sentence model, for grouping questions (FAQ proposals,
    registered with faq/vectors.py); None for `lexical`, whose hashed words add nothing to word overlap."""
    if settings.EMBEDDING_BACKEND == "lexical" or not texts:
        return None
    vectors = np.asarray(_embedding_function()(list(texts)), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def _embedding_class():
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings  # heavy: on first use

    class LexicalEmbedding(EmbeddingFunction[Documents]):
        def __init__(self) -> None:
            pass

        def __call__(self, input: Documents) -> Embeddings:
            return [np.array(lexical_vector(text), dtype=np.float32) for text in input]

        @staticmethod
        def name() -> str:
            return "omnichannel-lexical"

        def get_config(self) -> dict[str, Any]:
            return {"dimensions": LEXICAL_DIMENSIONS}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> LexicalEmbedding:
            return LexicalEmbedding()

        def default_space(self):
            return "cosine"

    return LexicalEmbedding


def _embedding_function():
    backend = settings.EMBEDDING_BACKEND
    if backend == "lexical":
        return _embedding_class()()
    if backend == "minilm":
        if not settings.EMBEDDING_MODEL_PATH:
            raise ImproperlyConfigured(
                "EMBEDDING_BACKEND=minilm needs EMBEDDING_MODEL_PATH, a local directory holding all-MiniLM-L6-v2")
        try:
            from chromadb.utils.embedding_functions import SentenceTransformerEmbeddingFunction  # optional
            return SentenceTransformerEmbeddingFunction(model_name=settings.EMBEDDING_MODEL_PATH, device="cpu")
        except (ImportError, ValueError) as exc:
            raise ImproperlyConfigured(f"EMBEDDING_BACKEND=minilm: {exc} (pip install sentence-transformers)") from exc
    from chromadb.utils.embedding_functions import DefaultEmbeddingFunction  # heavy: on first use
    return DefaultEmbeddingFunction()


_lock = threading.Lock()
_state: dict[str, Any] = {}


def _client():
    key = (settings.CHROMA_HOST, settings.CHROMA_PORT, settings.CHROMA_PATH)
    with _lock:
        if _state.get("key") != key:
            import chromadb  # heavy: loaded on first use, not by every process that imports this module
            from chromadb.config import Settings as ChromaSettings

            chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
            if settings.CHROMA_HOST:
                client = chromadb.HttpClient(host=settings.CHROMA_HOST, port=settings.CHROMA_PORT,
                                             settings=chroma_settings)
            else:
                client = chromadb.PersistentClient(path=settings.CHROMA_PATH, settings=chroma_settings)
            _state.clear()
            _state.update(key=key, client=client, collections={})
        return _state["client"]


def _known(name: str) -> None:
    if name not in COLLECTIONS:
        raise ValueError(f"unknown collection {name!r}; expected one of {', '.join(COLLECTIONS)}")


def _collection(name: str):
    _known(name)
    client = _client()
    cache = _state["collections"]
    if name not in cache:
        cache[name] = client.get_or_create_collection(
            name=f"{name}__{settings.EMBEDDING_BACKEND.replace('-', '_')}",
            embedding_function=_embedding_function(),
            configuration={"hnsw": {"space": "cosine"}},
        )
    return cache[name]


def _clean_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    # Chroma keeps only scalar metadata values; None is dropped, anything else becomes text.
    clean = {}
    for key, value in metadata.items():
        if value is None:
            continue
        clean[key] = value if isinstance(value, (str, int, float, bool)) else str(value)
    return clean or {"_": ""}


def _with_collection(name: str, action):
    """`action(collection)`, once more with a fresh handle if the one this process cached was dropped:
    another process reset or compacted the collection, which gives it a new id under the same name."""
    from chromadb.errors import NotFoundError  # heavy: on first use

    try:
        return action(_collection(name))
    except NotFoundError:
        _state.get("collections", {}).pop(name, None)
        return action(_collection(name))


def index_upsert(collection: str, items: list[IndexItem]) -> int:
    """Insert or replace items by id (stable ids make re-indexing never duplicate)."""
    _known(collection)
    if not items:
        return 0

    def upsert(target) -> None:
        batch = _client().get_max_batch_size()
        for start in range(0, len(items), batch):
            chunk = items[start:start + batch]
            target.upsert(ids=[i.id for i in chunk], documents=[i.text for i in chunk],
                          metadatas=[_clean_metadata(i.metadata) for i in chunk])

    with _chroma_errors("upsert"):
        _with_collection(collection, upsert)
    return len(items)


def index_query(collection: str, text: str, *, n: int = 5, where: dict | None = None) -> list[Hit]:
    _known(collection)

    def query(target):
        if n <= 0 or target.count() == 0:
            return None
        return target.query(query_texts=[text or " "], n_results=n, where=where,
                            include=["documents", "metadatas", "distances"])

    with _chroma_errors("query"):
        result = _with_collection(collection, query)
    if result is None:
        return []
    hits = []
    for id_, doc, meta, distance in zip(result["ids"][0], result["documents"][0], result["metadatas"][0],
                                        result["distances"][0], strict=False):
        hits.append(Hit(id=id_, text=doc or "", metadata=dict(meta or {}), score=max(0.0, min(1.0, 1.0 - distance))))
    return hits


def index_delete(collection: str, ids: list[str]) -> None:
    _known(collection)
    if ids:
        with _chroma_errors("delete"):
            _with_collection(collection, lambda target: target.delete(ids=list(ids)))


def index_count(collection: str) -> int:
    _known(collection)
    with _chroma_errors("count"):
        return _with_collection(collection, lambda target: target.count())


def index_reset(collection: str) -> None:
    """Drop and recreate one collection (used by rehydrate_chroma before a rebuild). What it held is
    gone from the embedded store's files too (`_vacuum_embedded_store`)."""
    _known(collection)
    with _chroma_errors("reset"):
        _client().delete_collection(_collection(collection).name)
        _state["collections"].pop(collection, None)
        _collection(collection)
        _vacuum_embedded_store()


COMPACT_BATCH = 1000  # items read back per request while a collection is rewritten


def index_compact(collection: str) -> int:
    """Rewrite a collection from what it still holds (documents, metadata and the vectors themselves,
    so nothing is embedded again), leaving nothing deleted in Chroma's log or files. Returns the
    items kept. A write another process makes to this collection while it is rewritten may be lost
    (it lands in the old collection): `rehydrate_chroma` rebuilds from Postgres, the record."""
    _known(collection)
    with _chroma_errors("compact"):
        target = _with_collection(collection, lambda target: target)
        kept: dict[str, list] = {"ids": [], "embeddings": [], "documents": [], "metadatas": []}
        for offset in range(0, target.count(), COMPACT_BATCH):
            page = target.get(limit=COMPACT_BATCH, offset=offset, include=["embeddings", "documents", "metadatas"])
            for key in kept:
                kept[key].extend(list(page[key]) if page[key] is not None else [])
        _client().delete_collection(target.name)
        _state["collections"].pop(collection, None)
        fresh = _collection(collection)
        batch = _client().get_max_batch_size()
        for start in range(0, len(kept["ids"]), batch):
            fresh.add(**{key: values[start:start + batch] for key, values in kept.items()})
        _vacuum_embedded_store()
    return len(kept["ids"])


def _vacuum_embedded_store() -> None:
    """The embedded store's files without what was deleted (assistants/vectorstore_files.py). Nothing to
    do here for a Chroma server."""
    if settings.CHROMA_HOST:
        logger.info("Chroma runs as a server (%s): run `chroma vacuum` on its host to drop deleted data", _where())
        return
    embedded_store_vacuum(Path(settings.CHROMA_PATH))



READINESS_PROBE = "where is my order"


def vectorstore_check() -> dict[str, Any]:
    """For /readyz: every collection answers a real query, and how big each is.

    A count reads only Chroma's metadata store; drafting needs the whole query path: the embedding
    function, the vector index, and vectors of the embedding's dimension (a collection filled by
    another model or version answers its count and fails every query). One nearest-neighbour
    query per collection, a few milliseconds each."""
    sizes = {}
    for name in COLLECTIONS:
        with _chroma_errors(f"readiness query on {name}"):
            target = _collection(name)
            sizes[name] = target.count()
            target.query(query_texts=[READINESS_PROBE], n_results=1, include=["distances"])
    return {"backend": settings.EMBEDDING_BACKEND, **sizes}
