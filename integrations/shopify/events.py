"""Shopify webhook topics routed to handlers; each handler runs one resource in one transaction.

Handlers are keyed on the resource's own id and compare its `updated_at`, so a redelivery or an
older event arriving late changes nothing. Events that carry only part of an order
(fulfillments, refunds) fetch the whole order, the simplest way to never merge stale pieces.

Shopify's mandatory privacy topics act (https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance):
`customers/redact` erases the customer it names (by id and email) and the orders it lists;
`customers/data_request` records a request whose export Ops download from the admin;
`shop/redact` (48 hours after an uninstall) erases every customer the shop gave us, but only for
our own shop and only while the app is marked uninstalled (a reinstall cancels it). A processed
delivery about an erased customer keeps its row but not its bytes (`_erase_if_about_erased`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from catalog.services import inventory_item_upsert, inventory_items_product_deleted, inventory_quantity_set
from customers.selectors import tombstones_covering
from customers.services import customer_mark_deleted_in_shop, customer_upsert, order_upsert
from customers.services_data_requests import data_request_create
from customers.services_erasure import customer_erase, shop_erasure_request
from integrations.deliveries import DeliveryIgnored, DeliverySource, delivery_process
from integrations.models import ShopifyCursor
from integrations.shopify import ingest
from integrations.shopify.client import ShopifyClient, ShopifyError
from integrations.shopify.topics import topic_mismatch
from integrations.webhooks_common import db_error_is_transient
from omnichannel.audit import audit_log_write
from omnichannel.errors import InvalidPayload, StateConflict
from omnichannel.metrics import records_ingested_total
from omnichannel.models import WebhookDelivery
from omnichannel.webhook_deliveries import webhook_delivery_erase

logger = logging.getLogger(__name__)


# Every handler gets the resource, a client, and when Shopify triggered the event (delete and
# uninstall bodies carry no updated_at: this time orders them against the versions we hold).
Handler = Callable[[dict, ShopifyClient, datetime], str]


def _customer(data: dict, client: ShopifyClient, at: datetime) -> str:
    _, outcome = customer_upsert(facts=ingest.customer_facts(data))
    records_ingested_total.labels(source="shopify", kind="customer").inc()
    return outcome


def _customer_deleted(data: dict, client: ShopifyClient, at: datetime) -> str:
    # The shop deleted the account in Shopify: we only mark it. Our history (conversations, orders,
    # PII) stays; erasing PII is a separate, explicit erasure request, never done here.
    return customer_mark_deleted_in_shop(shopify_id=ingest.shopify_id(data), deleted_at=at)[1]


def _order(data: dict, client: ShopifyClient, at: datetime) -> str:
    _, outcome = order_upsert(facts=ingest.order_facts(data))
    records_ingested_total.labels(source="shopify", kind="order").inc()
    return outcome


def _order_of(data: dict, client: ShopifyClient, at: datetime) -> str:
    return _order(client.order_get(ingest.shopify_id(data, "order_id")), client, at)


def _product(data: dict, client: ShopifyClient, at: datetime) -> str:
    # One transaction for the product: its variants' items are written (or left) together, in sku
    # order, so two deliveries of the product lock its rows in the same order (no deadlock).
    with transaction.atomic():
        outcomes = [inventory_item_upsert(facts=facts)[1]
                    for facts in sorted(ingest.product_inventory_facts(data), key=lambda f: f.sku)]
    records_ingested_total.labels(source="shopify", kind="inventory").inc(len(outcomes))
    return ",".join(outcomes) or "no skus"


def _product_deleted(data: dict, client: ShopifyClient, at: datetime) -> str:
    # The body is only {"id": ...}: the product's items are found by product id.
    result = inventory_items_product_deleted(product_id=ingest.shopify_id(data), deleted_at=at)
    return f"deleted {len(result['marked'])}" + (f", kept newer {len(result['kept_newer'])}" if result["kept_newer"] else "")


def _inventory_item(data: dict, client: ShopifyClient, at: datetime) -> str:
    return inventory_item_upsert(facts=ingest.inventory_item_facts(data))[1]


def _inventory_level(data: dict, client: ShopifyClient, at: datetime) -> str:
    item_id = ingest.shopify_id(data, "inventory_item_id")
    # A level is one location's count: the item's total needs every location's level.
    total = ingest.inventory_level_total(client.inventory_levels(item_id))
    _, outcome = inventory_quantity_set(shopify_id=item_id, quantity_available=total,
                                        source_updated_at=ingest.when(data, "updated_at"))
    records_ingested_total.labels(source="shopify", kind="inventory").inc()
    return outcome


def _uninstalled(data: dict, client: ShopifyClient, at: datetime) -> str:
    shop = str(data.get("myshopify_domain") or data.get("domain") or "")
    # The topic header is not signed: the shop itself confirms it (our token is revoked) before the backfill stops.
    if shop_answers(client):
        audit_log_write(event_type="shopify.app_uninstall_unconfirmed", integration="shopify",
                        payload={"shop": shop, "triggered_at": at.isoformat()})
        logger.warning("an app/uninstalled delivery for %s was not applied: the shop still answers the Admin API",
                       shop or "the shop")
        return "unconfirmed"
    shopify_app_uninstalled_mark(shop=shop, uninstalled_at=at)
    logger.warning("the Shopify app was uninstalled from %s at %s: the backfill refuses to run until it is "
                   "reinstalled or an operator calls shopify_app_install_reset", shop or "the shop", at.isoformat())
    return "uninstalled"


def _customers_redact(data: dict, client: ShopifyClient, at: datetime) -> str:
    customer_id, email = ingest.privacy_customer(data)
    orders = ingest.privacy_order_ids(data, "orders_to_redact")
    report = customer_erase(email=email, shopify_id=customer_id or "", order_shopify_ids=orders, integration="shopify")
    return f"erased {len(report.customers)} customer(s), {report.counts.get('orders', 0)} order(s)"


def _customers_data_request(data: dict, client: ShopifyClient, at: datetime) -> str:
    customer_id, email = ingest.privacy_customer(data)
    request = data.get("data_request") if isinstance(data.get("data_request"), dict) else {}
    data_request, created = data_request_create(
        external_id=str(request.get("id") or ""), shopify_customer_id=customer_id or "", email=email,
        orders_requested=ingest.privacy_order_ids(data, "orders_requested"))
    return f"data request {data_request.pk} {'recorded' if created else 'already recorded'}"


def _shop_redact(data: dict, client: ShopifyClient, at: datetime) -> str:
    shop = str(data.get("shop_domain") or "").strip().lower()
    # Signed with our app's secret, but an app can be installed on other shops: only ours is ours to erase.
    if shop != settings.SHOPIFY_SHOP_DOMAIN.strip().lower():
        logger.warning("shop/redact for %r, not our shop %r: nothing erased", shop, settings.SHOPIFY_SHOP_DOMAIN)
        return "other shop"
    # Shopify sends it 48 hours after an uninstall. If the app is installed (again), the shop still
    # uses us: erasing every customer would be the wrong answer to a late or replayed request.
    if not ShopifyCursor.objects.filter(resource=APP_STATE, last_run_status=UNINSTALLED).exists():
        audit_log_write(event_type="shop.erasure_refused", integration="shopify",
                        payload={"shop": shop, "reason": "the app is installed"})
        return "refused: the app is installed"
    shop_erasure_request(shop_domain=shop)
    return "shop erasure queued"


# Configured once for the app (not subscribed per shop), they keep coming after an uninstall: they are no
# sign of a reinstall (_note_installed), and shop/redact comes only after one.
PRIVACY_TOPICS = ("customers/redact", "customers/data_request", "shop/redact")

HANDLERS: dict[str, Handler] = {
    "customers/create": _customer, "customers/update": _customer, "customers/delete": _customer_deleted,
    "orders/create": _order, "orders/updated": _order, "orders/paid": _order, "orders/fulfilled": _order,
    "orders/cancelled": _order, "orders/partially_fulfilled": _order,
    "fulfillments/create": _order_of, "fulfillments/update": _order_of, "refunds/create": _order_of,
    "products/create": _product, "products/update": _product, "products/delete": _product_deleted,
    "inventory_levels/update": _inventory_level, "inventory_levels/connect": _inventory_level,
    "inventory_levels/disconnect": _inventory_level, "inventory_items/update": _inventory_item,
    "inventory_items/create": _inventory_item, "app/uninstalled": _uninstalled,
    "customers/redact": _customers_redact, "customers/data_request": _customers_data_request,
    "shop/redact": _shop_redact,
}


def _parse(delivery: WebhookDelivery) -> dict:
    if delivery.topic not in HANDLERS:
        raise DeliveryIgnored(f"shopify topic {delivery.topic!r} is not handled")
    data = json.loads(bytes(delivery.body))
    if not isinstance(data, dict):
        raise InvalidPayload("body must be a JSON object")
    if mismatch := topic_mismatch(delivery.topic, data):  # stored before the view checked it, or replayed
        raise InvalidPayload(mismatch)
    return data


def _handle(delivery: WebhookDelivery, data: dict, client: ShopifyClient | None) -> str:
    return HANDLERS[delivery.topic](data, client or ShopifyClient.from_settings(), _triggered_at(delivery))


def _finished(delivery: WebhookDelivery, data: dict, outcome: str) -> str:
    _note_delta(delivery.topic)
    if delivery.topic != "app/uninstalled" and delivery.topic not in PRIVACY_TOPICS:
        _note_installed(delivery)
    _erase_if_about_erased(delivery, data)
    return outcome


SHOPIFY_DELIVERIES = DeliverySource(
    name="shopify", parse=_parse, handle=_handle, finished=_finished,
    invalid=(InvalidPayload, json.JSONDecodeError, UnicodeDecodeError),
    transient=(ShopifyError, requests.RequestException),
    # A ValidationError, a value the database refuses or a bug is kept for replay; but a unique violation
    # from a race is retried: the next attempt sees the other worker's row committed.
    transient_unexpected=db_error_is_transient,
)


def process_shopify_event(delivery_id: int, *, client: ShopifyClient | None = None, replay: bool = False) -> str:
    """Apply one stored delivery through the delivery pipeline (integrations/deliveries.py: the claim,
    the lease, what is recorded and what is raised for a retry)."""
    return delivery_process(SHOPIFY_DELIVERIES, delivery_id, client=client, replay=replay)


def _erase_if_about_erased(delivery: WebhookDelivery, data: dict) -> None:
    """The customer this delivery names was erased (before it came, or by it: customers/redact):
    what we kept of it went through the erasure-aware services, and its raw bytes must not keep the rest."""
    emails, customer_ids, order_ids = ingest.privacy_subjects(delivery.topic, data)
    erased = tombstones_covering(emails=emails, shopify_customer_ids=customer_ids, shopify_order_ids=order_ids)
    if erased:
        webhook_delivery_erase(delivery_id=delivery.pk, reason=f"{delivery.topic} about an erased customer")


def _triggered_at(delivery: WebhookDelivery) -> datetime:
    """When Shopify triggered the event (X-Shopify-Triggered-At), else when we received it. A
    replay keeps the original time, so a delete replayed later does not outrank newer versions."""
    stamp = _header_time(delivery)
    return stamp or delivery.received_at


def _header_time(delivery: WebhookDelivery) -> datetime | None:
    headers = delivery.headers or {}
    value = headers.get("x-shopify-triggered-at") or headers.get("shopify-triggered-at") or ""
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        return None
    # The header is not signed: a time after we received the delivery is a lie (a replay "dated 2099").
    return min(parsed, delivery.received_at)


# The app's install state lives in a ShopifyCursor row named "app" (the table operators already
# watch in the admin): `last_run_status` "uninstalled" and `last_run_at` the time. It has no
# `last_delta_at`, so the stale-cursor alert ignores it. While it says uninstalled the nightly
# backfill refuses: our token no longer works, and hammering the shop would only collect 401s.
APP_STATE = "app"
UNINSTALLED = "uninstalled"


@transaction.atomic
def shopify_app_uninstalled_mark(*, shop: str, uninstalled_at: datetime) -> None:
    state, _ = ShopifyCursor.objects.select_for_update().get_or_create(resource=APP_STATE)
    # Only a newer fact moves the state: an old uninstall replayed after a reinstall changes nothing.
    applied = state.last_run_at is None or uninstalled_at > state.last_run_at
    if applied:
        state.last_run_status, state.last_run_at = UNINSTALLED, uninstalled_at
        state.save()
    audit_log_write(event_type="shopify.app_uninstalled", integration="shopify",
                    payload={"shop": shop, "uninstalled_at": uninstalled_at.isoformat(), "applied": applied})


@transaction.atomic
def shopify_app_install_reset(*, acting_user=None, reason: str = "manual reset") -> bool:
    """Clear the uninstalled mark (after a reinstall). Returns False when there was none."""
    state = ShopifyCursor.objects.select_for_update().filter(resource=APP_STATE, last_run_status=UNINSTALLED).first()
    if state is None:
        return False
    uninstalled_at = state.last_run_at
    state.last_run_status, state.last_run_at = "installed", timezone.now()
    state.save()
    audit_log_write(event_type="shopify.app_install_reset", acting_user=acting_user,
                    integration=None if acting_user else "shopify", payload={
                        "reason": reason, "uninstalled_at": uninstalled_at.isoformat() if uninstalled_at else None})
    return True


def shop_answers(client: ShopifyClient) -> bool:
    """True when our token still reads the shop (GET shop.json); False when Shopify says it is revoked
    (401, 403) or the shop is gone (404, 402 for a frozen one). A 5xx or a network error is raised: it
    proves nothing either way, and the caller retries."""
    try:
        client.shop_get()
    except ShopifyError as exc:
        if exc.permanent and exc.status in (401, 402, 403, 404):
            return False
        raise
    return True


def shopify_app_installed_check(*, client: ShopifyClient | None = None) -> None:
    """Raise StateConflict while the app is marked uninstalled (the backfill calls this first). With a
    client, the shop is asked first: once it answers again (reinstalled), the mark clears itself."""
    state = ShopifyCursor.objects.filter(resource=APP_STATE, last_run_status=UNINSTALLED).first()
    if state is not None and client is not None and shop_answers(client):
        shopify_app_install_reset(reason="the shop answers the Admin API again (GET shop.json)")
        return
    if state is not None:
        raise StateConflict(
            f"the Shopify app was uninstalled at {state.last_run_at.isoformat() if state.last_run_at else '?'} "
            "(audit event shopify.app_uninstalled): the backfill is refused. "
            "Reinstall the app (the next webhook it triggers clears this), or after reinstalling run: manage.py shell "
            "-c 'from integrations.shopify.events import shopify_app_install_reset; shopify_app_install_reset()'")


def _note_installed(delivery: WebhookDelivery) -> None:
    """A delivery Shopify triggered after the uninstall proves a reinstall: Shopify drops an
    app's webhook subscriptions on uninstall, so only a new install can trigger new ones. Late
    retries of older events do not count (their triggered-at is before the uninstall), nor do
    deliveries without a triggered-at header."""
    stamp = _header_time(delivery)
    if stamp is None:
        return
    state = ShopifyCursor.objects.filter(resource=APP_STATE, last_run_status=UNINSTALLED).first()
    if state is not None and state.last_run_at is not None and stamp > state.last_run_at:
        shopify_app_install_reset(reason=f"reinstalled: {delivery.topic} triggered at {stamp.isoformat()}")


_CURSOR_OF_TOPIC = {"customers": "customers", "orders": "orders", "fulfillments": "orders", "refunds": "orders",
                    "products": "inventory", "inventory_levels": "inventory", "inventory_items": "inventory"}


def _note_delta(topic: str) -> None:
    """A processed webhook is a delta: the stale-cursor alert watches `last_delta_at`."""
    resource = _CURSOR_OF_TOPIC.get(topic.split("/")[0])
    if resource:
        cursor, _ = ShopifyCursor.objects.get_or_create(resource=resource)
        ShopifyCursor.objects.filter(pk=cursor.pk).update(last_delta_at=timezone.now())
