"""Product requests recognised in mail, and the weekly demand report with exact figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from assistants.services import draft_generate
from catalog.demand import request_normalize
from catalog.models import ProductRequest
from catalog.services import InventoryFacts, inventory_item_upsert
from omnichannel.blobstore import blob_get
from omnichannel.models import AuditLog
from tests.builders import make_inbound_message

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("text,expected", [
    ("Do you sell inflatable kayaks?", "inflatable kayak"),
    ("Hi! Do you carry camping hammocks for two?", "camping hammock"),
    ("Please stock water filters, I can't find any.", "water filter"),
    ("Any plans to sell bike packing bags?", "bike packing bag"),
    # as people type them: "you guys", "y'all", the shop as the subject, plans
    ("hi, do you guys sell inflatable kayaks?? need one for july", "inflatable kayak"),
    ("Do y'all carry trekking poles", "trekking pole"),
    ("Does your shop sell gas canisters for the stove?", "gas canister"),
    ("Are you planning to stock solar chargers at some point?", "solar charger"),
    ("Where is my order?", None),
    ("Do you have my address right?", None),
    ("Do you have any update on my order?", None),
    ("do you have it in blue?", None),
])
def test_requests_are_normalized(text, expected):
    assert request_normalize(text) == expected


def test_a_product_request_email_is_counted_once_however_often_it_is_redrafted():
    message = make_inbound_message(email="sam@example.org", subject="Kayaks", body="Do you sell inflatable kayaks?")
    draft_generate(message_id=message.pk)
    draft_generate(message_id=message.pk, refresh=True)  # a re-draft (a correction, a replay) is not a new request
    request = ProductRequest.objects.get()
    assert request.normalized == "inflatable kayak" and request.count == 1
    assert request.conversation_id == message.conversation_id and request.customer is not None
    assert AuditLog.objects.filter(event_type="demand.request_recorded").count() == 1

    again = make_inbound_message(email="sam@example.org", subject="Re: Kayaks", body="Do you sell inflatable kayaks??",
                                 thread=message.conversation.external_thread_id)
    assert again.conversation_id == message.conversation_id
    draft_generate(message_id=again.pk)  # the customer asking again in the thread is counted
    draft_generate(message_id=again.pk, refresh=True)
    assert ProductRequest.objects.get().count == 2


def test_an_availability_question_about_an_item_out_of_stock_is_demand():
    inventory_item_upsert(facts=InventoryFacts(sku="TENT-4P-GRY", title="Basecamp 4-person tent (grey)",
                                               quantity_available=0, lead_time_days=21))
    inventory_item_upsert(facts=InventoryFacts(sku="STOVE-TI-01", title="Titanium camp stove", quantity_available=42))
    asked = make_inbound_message(email="ken@example.org", subject="Is the 4-person tent available?",
                                 body="Hi, is the Basecamp 4-person tent in stock? I'd like to order one.")
    outcome = draft_generate(message_id=asked.pk)
    assert outcome.intent.intent == "availability"
    draft_generate(message_id=asked.pk, refresh=True)
    request = ProductRequest.objects.get()
    assert request.normalized == "basecamp 4-person tent (grey) (out of stock)" and request.count == 1

    in_stock = make_inbound_message(email="dennis@example.org", subject="Stove available?",
                                    body="Is the titanium camp stove available?")
    assert draft_generate(message_id=in_stock.pk).intent.intent == "availability"
    assert ProductRequest.objects.count() == 1  # in stock: an ordinary question, not demand


def _request(normalized: str, when: datetime, n: int, count: int = 1):
    message = make_inbound_message(email=f"{normalized.replace(' ', '')}{n}@example.org", body="x")
    ProductRequest.objects.create(normalized=normalized, description=normalized, conversation=message.conversation,
                                  requested_at=when, count=count)


def test_the_weekly_report_gives_the_exact_csv(tmp_path):
    week_start = datetime(2026, 11, 16, 10, tzinfo=UTC)  # 2026-W47
    for n in range(3):
        _request("inflatable kayak", week_start + timedelta(days=n), n)
    _request("water filter", week_start, 10, count=2)
    for n in range(4):  # the previous four weeks: one water filter request each
        _request("water filter", week_start - timedelta(weeks=n + 1), 20 + n)
    _request("inflatable kayak", week_start + timedelta(weeks=1), 99)  # next week: not counted
    out = tmp_path / "demand.csv"
    call_command("mine_demand", "--week", "2026-W47", "--csv", str(out))
    expected = ("week,request,count,previous_4_week_mean,trend_score\n"
                "2026-W47,inflatable kayak,3,0.00,3.000\n"
                "2026-W47,water filter,2,1.00,0.500\n")
    assert out.read_text() == expected
    assert blob_get("reports/demand-2026-W47.csv").decode() == expected
    assert ProductRequest.objects.filter(normalized="inflatable kayak", trend_score=3.0).count() == 3


def test_a_malformed_week_is_refused():
    with pytest.raises(CommandError, match="must look like 2026-W47"):
        call_command("mine_demand", "--week", "November")
    assert not Path("demand.csv").exists()
