"""The draft list endpoint `/api/drafts/` on a big table, on Postgres.

    python bench/api_drafts.py [--quick]     # 50,000 drafts (quick: 2,000), 50 requests each

Loads the drafts into a database of its own (`omni_bench_api`, created and dropped by this run),
then prints:
- the query count of the first page with 60 drafts and with all of them (they must be equal:
  cursor pagination, no per-row queries);
- p50/p95/p99 of `GET /api/drafts/` in process (Django test client, token auth, cursor page of 50)
  against a baseline measured in the same run, interleaved: the same rows, the same page size,
  read with `.values()` and dumped to JSON by hand (no DRF). Target: p95 under 100 ms.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta

os.environ["BENCH_DATABASE_URL"] = os.environ.get("BENCH_API_DATABASE_URL",
                                                  "postgres://postgres@127.0.0.1:5432/omni_bench_api")

import _common  # noqa: E402  (reads BENCH_DATABASE_URL at import)
from _common import bench_sizes, figure, setup, summary, table  # noqa: E402

SMALL = 60  # more than one page of 50, so the first page is a full one
PAGE = 50


def _load_drafts(start: int, stop: int) -> None:
    """Conversations `start..stop-1`, each with one inbound message and one draft (every tenth pending)."""
    from _load import _copy
    from django.db import connection

    now = datetime.now(UTC)
    ids = range(start, stop)
    _copy("conversations", ["id", "channel", "external_thread_id", "subject", "status", "unread_count", "is_archived",
                            "archive_blob_key", "last_message_at", "created_at", "updated_at"],
          ((i, "email", f"t{i}", f"Question {i} about my order", "open", 1, False, "", now, now, now) for i in ids))
    _copy("messages", ["id", "conversation_id", "direction", "external_msg_id", "rfc_message_id", "in_reply_to",
                       "references", "from_address", "from_name", "to_addresses", "cc_addresses", "subject", "body",
                       "body_html", "attachments", "raw_payload", "is_erased", "sent_at", "created_at", "headers",
                       "triage_label", "triage_reason"],
          ((i, i, "inbound", f"m{i}", "", "", "", f"c{i}@bench.example", "", "[]", "[]", "Question",
            f"Hello, where is my order {i}?", "", "[]", "{}", False, now - timedelta(seconds=i), now, "{}", "", "")
           for i in ids))
    _copy("drafts", ["id", "conversation_id", "reply_to_id", "body", "confidence", "intent", "status", "send_attempts",
                     "last_send_error", "created_at", "updated_at", "origin", "waiting_since", "send_stopped"],
          ((i, i, i, f"Hi, your order {i} has shipped.\nBest,\nDemo Shop", (i % 100) / 100, "order_status",
            "pending" if i % 10 == 0 else "sent", 0, "", now - timedelta(seconds=stop - i), now, "assistant",
            now - timedelta(seconds=stop - i), False) for i in ids))
    with connection.cursor() as cursor:
        for table_name in ("conversations", "messages", "drafts"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table_name}', 'id'), %s)", [stop - 1])  # noqa: S608
        cursor.execute("ANALYZE conversations; ANALYZE messages; ANALYZE drafts")


def _drop_database() -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    name = _common.BENCH_DB.rsplit("/", 1)[1]
    with psycopg.connect(_common.BENCH_DB.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(drafts: int, repeat: int) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.services import api_token_create
    from conversations.api import DraftOut
    from conversations.models import Draft

    # The baseline reads the serializer's columns that are the model's (reasons come from the model run).
    model_fields = [name for name in DraftOut.Meta.fields if name in {f.name for f in Draft._meta.concrete_fields}]

    user = get_user_model().objects.create_user(username="bench-agent")
    user.groups.add(Group.objects.get(name="Agents"))
    client = Client(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user)[1]}")

    def api_page() -> int:
        response = client.get("/api/drafts/")
        assert response.status_code == 200, response.content[:300]
        return len(response.json()["results"])

    def baseline_page() -> int:
        rows = list(Draft.objects.order_by("-id").values(*model_fields)[:PAGE + 1])
        return len(json.dumps({"next": None, "previous": None, "results": rows[:PAGE]}, default=str))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api_page() == PAGE
        return len(captured.captured_queries)

    _load_drafts(1, SMALL + 1)
    api_page()  # the user's permission set is cached after the first request (omnichannel/auth_backends.py)
    small_queries = queries()
    _load_drafts(SMALL + 1, drafts + 1)
    full_queries = queries()

    api_page(), baseline_page()  # warm connections and caches
    results = {"api": [], "baseline": []}
    for _ in range(repeat):  # interleaved, so machine noise hits both alike
        for name, fn in (("api", api_page), ("baseline", baseline_page)):
            started = time.perf_counter()
            fn()
            results[name].append((time.perf_counter() - started) * 1000)

    table(f"/api/drafts/ query count, first page of {PAGE}", [
        (f"{SMALL:,} drafts", small_queries), (f"{drafts:,} drafts", full_queries),
        ("equal", "yes" if small_queries == full_queries else "NO")], ("table size", "queries"))
    api, base = summary(results["api"]), summary(results["baseline"])
    table(f"/api/drafts/ first page, {drafts:,} drafts, {repeat} requests each (ms)", [
        ("GET /api/drafts/ (token, DRF, cursor page)", *api),
        ("baseline: same page via .values() + json", *base)], ("what", "p50", "p95", "p99"))
    print(f"\nAPI p95 / 100 ms target = {float(api[1]) / 100:.2f};  API p95 / baseline p95 = "
          f"{float(api[1]) / float(base[1]):.1f}x")
    figure("api_drafts: API p95", float(api[1]), unit="ms", target="< 100")
    figure("api_drafts: queries per page", full_queries, target=f"== {small_queries}")
    if small_queries != full_queries:
        sys.exit(f"query count grows with the table: {small_queries} -> {full_queries}")


def main() -> None:
    drafts, repeat = bench_sizes(quick=(2_000, 50), full=(50_000, 50))
    setup()
    try:
        run(drafts, repeat)
    finally:
        _drop_database()


if __name__ == "__main__":
    main()
