"""Rows for every list the admin and the API show: `ROWS[model label](i)` adds the `i`th row of that model
with the related rows its list shows (customer, conversation, user, parent...), each one distinct, as a
shop's data would have them. The query-count tests (tests/omnichannel/test_every_admin_list_query_counts.py,
tests/omnichannel/test_every_api_list_query_counts.py) ask every list over a few of these rows and over many.

A model with a list and no entry here fails those tests by name: add its builder."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services import api_token_create
from assistants.models import ModelRun, StyleProfile
from catalog.models import InventoryItem, ProductRequest
from conversations.models import Approval, Message
from conversations.services.approvals import draft_approve, draft_reject
from conversations.services.claims import draft_claim
from conversations.services.drafts import draft_create
from customers.models import Customer, DataRequest, ErasureTombstone, Order
from customers.services import customer_get_or_create_lead
from faq.models import Correction, FaqEntry, FaqProposal, FaqProposalObservation, FaqPublication
from integrations.models import ShopifyCursor, SiteDocument, SiteSnapshot, ZohoSyncState
from omnichannel.models import AuditLog, DeadLetter, WebhookDelivery
from tests.builders import make_inbound_message

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
FIRST_NAMES = ["Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara", "Ken", "Frances", "Edsger", "Radia",
               "Donald", "Hedy", "John", "Karen", "Niklaus", "Sophie"]


def _name(i: int) -> str:
    return f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {chr(ord('A') + i % 26)}."


def _email(i: int) -> str:
    return f"{FIRST_NAMES[i % len(FIRST_NAMES)].lower()}.{i}@example.com"


def _user(i: int, prefix: str = "staff"):
    return get_user_model().objects.create_user(username=f"{prefix}-{i}", email=f"{prefix}{i}@demo-shop.example",
                                                first_name=FIRST_NAMES[i % len(FIRST_NAMES)], is_staff=True)


def _customer(i: int) -> Customer:
    customer, _ = customer_get_or_create_lead(email=_email(i), name=_name(i))
    return customer


def _message(i: int, **fields) -> Message:
    return make_inbound_message(email=_email(i), subject=f"Where is my order #{1000 + i}?",
                                body=f"Hi, I ordered a tent on Monday (#{1000 + i}) and nothing has arrived.", **fields)


def _draft(i: int):
    """A pending draft answering the customer's message, with the model run that wrote it (its reasons), and
    held by an agent reviewing it: every column of the queue and of the API's drafts has its related row."""
    message = _message(i)
    run = ModelRun.objects.create(
        conversation=message.conversation, message=message, provider="openai", model_slug="gpt-4o-mini",
        prompt_hash=f"{i:064x}", intent="order_status",
        evaluation={"reasons": {"summary": "The order is in Shopify with a tracking number.", "answered": True}})
    draft = draft_create(conversation_id=message.conversation_id, reply_to_id=message.pk, refresh=True,
                         body=f"Hello {_name(i)},\nYour order #{1000 + i} left our warehouse today.",
                         confidence=0.8, intent="order_status", model_run=run)
    draft_claim(draft_id=draft.pk, user=_user(i, "reviewer"))
    return draft


def _approval(i: int) -> Approval:
    draft = _draft(i)
    decider = _user(i, "decider")
    if i % 2:
        return draft_reject(draft_id=draft.pk, reason="Wrong order number", acting_user=decider)
    return draft_approve(draft_id=draft.pk, acting_user=decider)


def _group(i: int) -> None:
    group = Group.objects.create(name=f"Night shift {i}")
    group.permissions.set(Permission.objects.filter(codename__startswith="view_")[:3])


def _user_with_group(i: int) -> None:
    user = _user(i, "teammate")
    user.groups.add(Group.objects.get(name="Agents"))


def _totp(i: int) -> None:
    TOTPDevice.objects.create(user=_user(i, "totp"), name=f"Phone {i}", confirmed=True)


def _periodic_task(i: int) -> None:
    interval = IntervalSchedule.objects.create(every=100 + i, period=IntervalSchedule.MINUTES)
    crontab = CrontabSchedule.objects.create(minute=str(i % 60), hour=str(i % 24))
    PeriodicTask.objects.create(name=f"nightly report {i}", task="omnichannel.tasks.report", interval=interval)
    PeriodicTask.objects.create(name=f"weekly digest {i}", task="omnichannel.tasks.digest", crontab=crontab)


def _clocked(i: int) -> None:
    ClockedSchedule.objects.create(clocked_time=NOW + timedelta(hours=i))


def _crontab(i: int) -> None:
    CrontabSchedule.objects.create(minute=str(i % 60), hour="3", day_of_week=str(i % 7))


def _solar(i: int) -> None:
    SolarSchedule.objects.create(event="sunrise", latitude=48 + i / 10, longitude=2 + i / 10)


def _interval(i: int) -> None:
    IntervalSchedule.objects.create(every=1000 + i, period=IntervalSchedule.SECONDS)


def _axes(model) -> Callable[[int], None]:
    def build(i: int) -> None:
        fields = {"user_agent": "Mozilla/5.0 (X11; Linux x86_64)", "ip_address": f"203.0.113.{i + 1}",
                  "username": f"intruder{i}", "http_accept": "text/html", "path_info": "/admin/login/"}
        if model is AccessAttempt:
            fields.update(get_data="", post_data="username=admin", failures_since_start=i + 1)
        model.objects.create(**fields)

    return build


def _audit(i: int) -> None:
    AuditLog.objects.create(event_type="draft.approved", actor=f"user:{i}", actor_user=_user(i, "auditor"),
                            object_type="draft", object_id=str(i), payload={"draft_id": i})


def _delivery(i: int) -> None:
    WebhookDelivery.objects.create(source="shopify", topic="orders/updated", external_id=f"delivery-{i}",
                                   body=b'{"id": 1}', last_error="timeout" if i % 2 else "")


def _dead_letter(i: int) -> None:
    DeadLetter.objects.create(task_name="send_draft", exception_type="ConnectionError",
                              exception_message=f"Connection reset by peer ({i})", args=[i],
                              resolved_by=_user(i, "resolver") if i % 2 else None)


def _api_token(i: int) -> None:
    api_token_create(user=_user(i, "integrator"), name=f"Zapier {i}")


def _order(i: int) -> None:
    Order.objects.create(shopify_id=5_000_000 + i, customer=_customer(i), name=f"#{1000 + i}", email=_email(i),
                         currency="EUR", total_price_cents=4990 + i,
                         line_items=[{"title": "Tent", "quantity": 1, "price_cents": 4990 + i}],
                         placed_at=NOW - timedelta(days=i))


def _data_request(i: int) -> None:
    DataRequest.objects.create(external_id=f"req-{i}", customer=_customer(i), email=_email(i),
                               blob_key=f"exports/{i}.zip" if i % 2 else "")


def _tombstone(i: int) -> None:
    ErasureTombstone.objects.create(kind="email", key=f"{i:064x}", erased_at=NOW)


def _inventory(i: int) -> None:
    InventoryItem.objects.create(sku=f"TENT-{i:03}", title=f"Trail tent, {i + 1} person", quantity_available=i)


def _product_request(i: int) -> None:
    message = _message(i)
    ProductRequest.objects.create(customer=message.conversation.customer, conversation=message.conversation,
                                  description=f"Do you sell a {i + 2}-person canoe?", normalized=f"canoe {i}",
                                  requested_at=NOW)


def _triaged(i: int) -> None:
    message = _message(i)
    Message.objects.filter(pk=message.pk).update(triage_label="auto_reply", triage_reason="Out of office",
                                                 triaged_at=NOW)


def _privacy(i: int) -> None:
    message = _message(i)
    Message.objects.filter(pk=message.pk).update(triage_label="privacy_request",
                                                 triage_reason="asks to delete their data", triaged_at=NOW)


def _faq_entry(i: int) -> None:
    FaqEntry.objects.create(question=f"Do you ship to country {i}?", answer="Yes, within 5 working days.",
                            status="published" if i % 2 else "draft", published_at=NOW if i % 2 else None,
                            created_by=_user(i, "writer"))


def _correction(i: int) -> None:
    Correction.objects.create(key=f"returns-{i}", pattern=f"return.*{i}", answer="Returns are free for 30 days.",
                              sources=[f"https://demo-shop.example/returns#{i}"])


def _publication(i: int) -> None:
    FaqPublication.objects.create(shopify_page_id=900 + i, content_sha256=f"{i:064x}", entries_count=i)


def _proposal(i: int, entry: bool = True) -> FaqProposal:
    return FaqProposal.objects.create(
        intent="shipping", question=f"How long does shipping to island {i} take?", answer="About a week.",
        first_seen_at=NOW, last_seen_at=NOW, decided_by=_user(i, "ops") if entry else None,
        faq_entry=FaqEntry.objects.create(question=f"Island {i}?", answer="A week.") if entry else None)


def _observation(i: int) -> None:
    approval = _approval(i)
    FaqProposalObservation.objects.create(proposal=_proposal(i, entry=False), approval=approval,
                                          message=approval.draft.reply_to, conversation=approval.draft.conversation,
                                          seen_at=NOW)


def _model_run(i: int) -> None:
    message = _message(i)
    ModelRun.objects.create(conversation=message.conversation, message=message, provider="openai",
                            model_slug="gpt-4o-mini", prompt_hash=f"{i:064x}", tokens_in=800 + i, tokens_out=120,
                            intent="order_status")


def _style(i: int) -> None:
    StyleProfile.objects.create(name=f"Warm {i}", owner_user=_user(i, "writer"), tone_config={"tone": "warm"})


def _cursor(i: int) -> None:
    ShopifyCursor.objects.create(resource=f"resource-{i}", records_total=i)


def _zoho(i: int) -> None:
    ZohoSyncState.objects.create(folder_id=f"folder-{i}", folder_name=f"Inbox {i}")


def _snapshot(i: int) -> SiteSnapshot:
    return SiteSnapshot.objects.create(url=f"https://demo-shop.example/pages/{i}", status="ok", fetched_at=NOW)


def _site_document(i: int) -> None:
    parent = SiteDocument.objects.create(url=f"https://demo-shop.example/sitemap-{i}.xml", kind="sitemap",
                                         created_by=_user(i, "crawler"))
    SiteDocument.objects.create(url=f"https://demo-shop.example/pages/shipping-{i}", parent=parent,
                                snapshot=_snapshot(1000 + i), created_by=parent.created_by)


ROWS: dict[str, Callable[[int], object]] = {
    "auth.Group": _group,
    "auth.User": _user_with_group,
    "otp_totp.TOTPDevice": _totp,
    "django_celery_beat.PeriodicTask": _periodic_task,
    "django_celery_beat.ClockedSchedule": _clocked,
    "django_celery_beat.CrontabSchedule": _crontab,
    "django_celery_beat.SolarSchedule": _solar,
    "django_celery_beat.IntervalSchedule": _interval,
    "axes.AccessAttempt": _axes(AccessAttempt),
    "axes.AccessLog": _axes(AccessLog),
    "axes.AccessFailureLog": _axes(AccessFailureLog),
    "omnichannel.AuditLog": _audit,
    "omnichannel.WebhookDelivery": _delivery,
    "omnichannel.DeadLetter": _dead_letter,
    "accounts.ApiToken": _api_token,
    "customers.Customer": _order,  # a customer with an order: the list shows their totals
    "customers.Order": _order,
    "customers.DataRequest": _data_request,
    "customers.ErasureTombstone": _tombstone,
    "catalog.InventoryItem": _inventory,
    "catalog.ProductRequest": _product_request,
    "conversations.TriagedMessage": _triaged,
    "conversations.PrivacyRequest": _privacy,
    "conversations.Conversation": _draft,  # a conversation waiting on its draft
    "conversations.Message": _draft,
    "conversations.Draft": _draft,
    "conversations.Approval": _approval,
    "faq.FaqEntry": _faq_entry,
    "faq.Correction": _correction,
    "faq.FaqPublication": _publication,
    "faq.FaqProposal": _proposal,
    "faq.FaqProposalObservation": _observation,
    "assistants.ModelRun": _model_run,
    "assistants.StyleProfile": _style,
    "integrations.ShopifyCursor": _cursor,
    "integrations.ZohoSyncState": _zoho,
    "integrations.SiteSnapshot": _snapshot,
    "integrations.SiteDocument": _site_document,
}


def rows_add(label: str, start: int, stop: int) -> None:
    """Rows `start`..`stop - 1` of the model `label` (with their related rows)."""
    assert label in ROWS, f"add a builder for {label} to tests/list_rows.py: its list has no query-count test"
    for i in range(start, stop):
        ROWS[label](i)


def assert_fixed_queries(name: str, label: str, clients: Mapping[str, object], url: str,
                         ask: Callable[[object, str], tuple[int, int]], expected: Mapping[str, dict[str, int]]) -> None:
    """The list `name` at `url`, asked by each client over 2 rows of `label` and over 12 (`ask` gives the
    queries and the rows listed): the 10 rows added are listed, the queries do not grow with the rows,
    and they are the count pinned in `expected[name]`."""
    rows_add(label, 0, 2)
    few = {who: ask(client, url) for who, client in clients.items()}
    rows_add(label, 2, 12)
    many = {who: ask(client, url) for who, client in clients.items()}
    for who in clients:
        assert many[who][1] >= few[who][1] + 10, f"{name}: the 10 rows added are not listed for {who}"
    seen_few = {who: queries for who, (queries, _) in few.items()}
    seen_many = {who: queries for who, (queries, _) in many.items()}
    assert seen_many == seen_few, f"{name}: the queries grow with the rows (an N+1)"
    assert seen_few == expected.get(name), f"{name}: pin {seen_few!r} in EXPECTED"
