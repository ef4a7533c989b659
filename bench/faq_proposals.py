"""The weekly FAQ proposal refresh over 10,000 approved replies, on Postgres.

    python bench/faq_proposals.py [--quick]   # 10,000 replies (--quick: 1,000), 5,000 customers

Replies to questions on 150 topics (a few hundred asked often, many once) are loaded with COPY,
then timed: the first refresh (every reply unplaced: read, grouped, proposals composed and
scrubbed, observations written), a second one with nothing new, and one after 500 new replies.
In the same run, the grouping alone on the same 10,000 questions: word overlap with its prefix
filter, the same without it (every exemplar of the intent scored: the baseline), and sentence
vectors (512-dimension stand-ins, the grouping cost only). Target: the first refresh under 30 s,
a tenth of the `propose_faq` task's soft time limit (CELERY_TASK_SOFT_TIME_LIMIT, 300 s).
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from _common import bench_sizes, setup, table

INTENTS = ["general", "order_status", "returns_refunds", "availability", "address_change"]
WORDS = ("tent stove boots jacket shipping returns refund warranty size waterproof sleeping bag headlamp poles delivery "
         "europe canada gift card exchange lead time restock tracking parcel invoice discount student paypal klarna "
         "voucher wrapping store pickup bristol collect weekend express courier customs duty receipt colour green blue "
         "medium large small insole laces zip seam rain fleece gloves hat stock preorder cancel address change label "
         "printer damaged missing broken dented late early price match newsletter account password login review "
         "photo size-chart fit narrow wide repair spare part carabiner rope harness helmet kayak paddle").split()
FILLER = "please could you tell me about this thanks hello again quickly today kindly soon urgent sorry bother".split()


def _questions(n: int, rng: random.Random) -> list[tuple[str, str, str, bool]]:
    """(intent, subject, body, edited) per reply: 70% on 150 recurring topics (Zipf-like), 30% asked once."""
    topics = [(rng.choice(INTENTS), rng.sample(WORDS, 4)) for _ in range(150)]
    weights = [1 / (rank + 1) for rank in range(len(topics))]
    found = []
    for _ in range(n):
        if rng.random() < 0.7:
            intent, core = rng.choices(topics, weights)[0]
            words = rng.sample(core, 3) + rng.sample(WORDS, 1)
        else:
            intent, words = rng.choice(INTENTS), rng.sample(WORDS, 5)
        body = f"Hi, {' '.join(rng.sample(FILLER, 2))}: is the {' '.join(words)} possible? Thanks, {rng.choice(FIRST)}"
        found.append((intent, words[0].title(), body, rng.random() < 0.3))
    return found


FIRST = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Katherine", "Linus", "Margaret", "Donald", "Frances"]


def load(n: int, customers: int, *, start: int = 0) -> None:
    """`n` inbound messages, each with a sent draft and its approval (30% edited), in conversations of their own."""
    from _load import _copy
    from django.contrib.auth import get_user_model
    from django.db import connection

    rng = random.Random(11 + start)
    now = datetime.now(UTC)
    agent = get_user_model().objects.get_or_create(username="bench-agent")[0]
    if start == 0:
        _copy("customers", ["id", "email", "shopify_id", "name", "phone", "lifetime_value_cents", "currency",
                            "orders_count", "segment", "shipping_addresses", "tags", "is_erased", "created_at",
                            "updated_at"],
              ((i, f"c{i}@bench.example", str(1_000_000 + i), f"{FIRST[i % 10]} Benchson{i}", f"+44 20 7946 {i % 10000:04d}",
                0, "USD", 1, "new", json.dumps([{"address1": f"{i % 200 + 1} High Street", "zip": "SK9 1AA",
                                                  "name": f"{FIRST[i % 10]} Benchson{i}"}]), "", False, now, now)
               for i in range(1, customers + 1)))
    ids = range(start + 1, start + n + 1)
    questions = _questions(n, rng)
    _copy("conversations", ["id", "channel", "external_thread_id", "subject", "customer_id", "status", "unread_count",
                            "is_archived", "archive_blob_key", "last_message_at", "created_at", "updated_at"],
          ((i, "email", f"faq-t{i}", q[1], (i % customers) + 1, "closed", 0, False, "", now, now, now)
           for i, q in zip(ids, questions, strict=True)))
    _copy("messages", ["id", "conversation_id", "direction", "external_msg_id", "rfc_message_id", "in_reply_to",
                       "references", "from_address", "from_name", "to_addresses", "cc_addresses", "subject", "body",
                       "body_html", "attachments", "raw_payload", "is_erased", "sent_at", "created_at", "headers",
                       "triage_label", "triage_reason"],
          ((i, i, "inbound", f"faq-m{i}", "", "", "", f"c{(i % customers) + 1}@bench.example", "", "[]", "[]", q[1],
            q[2], "", "[]", "{}", False, now - timedelta(minutes=n - i + start), now, "{}", "customer", "")
           for i, q in zip(ids, questions, strict=True)))
    _copy("drafts", ["id", "conversation_id", "reply_to_id", "body", "confidence", "intent", "status", "send_attempts",
                     "last_send_error", "created_at", "updated_at", "origin", "send_stopped"],
          ((i, i, i, "Hi,\n\nI am checking this with our team.\n\nBest regards,\nThe support team", 0.5, q[0], "sent",
            1, "", now, now, "assistant", False) for i, q in zip(ids, questions, strict=True)))
    _copy("approvals", ["draft_id", "approved_by_id", "action", "final_text", "diff", "reason", "taken_at"],
          ((i, agent.pk, "edit" if q[3] else "approve",
            f"Hi {FIRST[i % 10]},\n\nYes: the {q[1].lower()} question is answered in our guide; your parcel "
            f"1Z999AA1{i:010d} ships from {i % 200 + 1} High Street.\n\nBest regards,\nThe support team", "", "",
            now - timedelta(minutes=n - i + start)) for i, q in zip(ids, questions, strict=True)))
    with connection.cursor() as cursor:
        for name in ("conversations", "messages", "drafts"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")  # noqa: S608
        cursor.execute("ANALYZE customers; ANALYZE conversations; ANALYZE messages; ANALYZE drafts; ANALYZE approvals")


def _naive_words(questions, threshold: float = 0.4) -> int:
    """The baseline: each question scored against every exemplar of its intent (no prefix filter)."""
    from faq.clustering import MAX_EXEMPLARS, jaccard, question_words

    exemplars: dict[str, list[tuple[int, frozenset]]] = {}
    count: Counter = Counter()
    new = 0
    for question in questions:
        words, best, best_score = question_words(question.text), None, threshold
        for group, other in exemplars.get(question.intent, []):
            score = jaccard(words, other)
            if score > best_score or (score == best_score and best is None):
                best, best_score = group, score
        if best is None:
            new -= 1
            best = new
        if words and count[best] < MAX_EXEMPLARS:
            count[best] += 1
            exemplars.setdefault(question.intent, []).append((best, words))
    return -new


def main() -> None:
    replies, customers, more = bench_sizes(quick=(1_000, 500, 100), full=(10_000, 5_000, 500))
    setup()
    import numpy as np

    from assistants.vectorstore import lexical_vector
    from faq.clustering import Question, questions_place
    from faq.models import FaqProposal, FaqProposalObservation
    from faq.selectors import faq_observations_unplaced
    from faq.services_proposals import faq_proposals_refresh

    load(replies, customers)
    rows = []

    started = time.perf_counter()
    observed = faq_observations_unplaced()
    read_s = time.perf_counter() - started
    questions = [Question(o.approval_id, o.intent, o.text) for o in observed]

    started = time.perf_counter()
    prefixed = questions_place(groups=[], questions=questions, vectors=None)
    prefix_s = time.perf_counter() - started
    started = time.perf_counter()
    naive_groups = _naive_words(questions)
    naive_s = time.perf_counter() - started
    assert naive_groups == len(set(prefixed.group_of.values())), "the prefix filter must place as scoring all does"
    vectors = np.array([lexical_vector(q.text) for q in questions], dtype=np.float32)
    started = time.perf_counter()
    by_vectors = questions_place(groups=[], questions=questions, vectors=lambda texts: (vectors, "stand-in"))
    vector_s = time.perf_counter() - started

    started = time.perf_counter()
    first = faq_proposals_refresh()
    first_s = time.perf_counter() - started
    proposals, placed = FaqProposal.objects.count(), FaqProposalObservation.objects.count()
    rows.append((f"first refresh, {replies:,} replies unplaced", f"{first_s:.2f}",
                 f"{len(first.created)} proposals, {placed:,} replies placed, {first.unplaced:,} asked once"))
    started = time.perf_counter()
    again = faq_proposals_refresh()
    rows.append(("second refresh, nothing new", f"{time.perf_counter() - started:.2f}",
                 f"{len(again.created)} created, {FaqProposal.objects.count() - proposals} duplicated"))
    load(more, customers, start=replies)
    started = time.perf_counter()
    grown = faq_proposals_refresh()
    rows.append((f"refresh after {more} new replies", f"{time.perf_counter() - started:.2f}",
                 f"{len(grown.created)} new proposals, {grown.observations} replies placed"))
    rows += [(f"  read the {len(observed):,} unplaced replies (one query)", f"{read_s:.2f}", ""),
             ("  group by words, prefix filter", f"{prefix_s:.2f}", f"{len(set(prefixed.group_of.values())):,} groups"),
             ("  baseline: group by words, every exemplar scored", f"{naive_s:.2f}", f"{naive_groups:,} groups (same)"),
             ("  group by 512-d vectors (embedding not timed)", f"{vector_s:.2f}",
              f"{len(set(by_vectors.group_of.values())):,} groups")]
    table(f"FAQ proposal refresh: {replies:,} approved replies, {customers:,} customers (seconds)", rows,
          ("what", "s", "result"))
    print(f"\nfirst refresh {first_s:.1f} s / 30 s target = {first_s / 30:.2f}   prefix filter "
          f"{naive_s / max(prefix_s, 1e-9):.1f}x faster than scoring every exemplar")


if __name__ == "__main__":
    main()
