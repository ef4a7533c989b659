"""Shopify webhook topics routed to handlers; each handler runs one resource in one transaction.

Handlers are keyed on the resource's own id and compare its `updated_at`, so a redelivery or an
older event arriving late changes nothing. Events that carry only part of an order
(fulfillments, refunds) fetch the whole order, the simplest way to never merge stale pieces.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import requests
from django.utils import timezone

from catalog.services import inventory_item_upsert, inventory_quantity_set
from customers.services import customer_upsert, order_upsert
from integrations.models import ShopifyCursor
from integrations.shopify import ingest
from integrations.shopify.client import ShopifyClient, ShopifyError
from integrations.webhooks_common import TRANSIENT_DB_ERRORS, delivery_failed
from omnichannel.audit import audit_log_write
from omnichannel.errors import InvalidPayload
from omnichannel.metrics import records_ingested_total, shopify_cursor_lag_seconds
from omnichannel.models import WebhookDelivery
from omnichannel.services import webhook_delivery_claim, webhook_delivery_finish

logger = logging.getLogger(__name__)


def _customer(data: dict, client: ShopifyClient) -> str:
    _, outcome = customer_upsert(facts=ingest.customer_facts(data))
    records_ingested_total.labels(source="shopify", kind="customer").inc()
    return outcome


def _customer_deleted(data: dict, client: ShopifyClient) -> str:
    # The shop deleted the account; our history (conversations, orders) stays. Erasure is its own flow.
    audit_log_write(event_type="customer.deleted_in_shop", payload={"shopify_id": ingest.shopify_id(data)},
                    integration="shopify")
    return "noted"


def _order(data: dict, client: ShopifyClient) -> str:
    _, outcome = order_upsert(facts=ingest.order_facts(data))
    records_ingested_total.labels(source="shopify", kind="order").inc()
    return outcome


def _order_of(data: dict, client: ShopifyClient) -> str:
    return _order(client.order_get(ingest.shopify_id(data, "order_id")), client)


def _product(data: dict, client: ShopifyClient) -> str:
    outcomes = [inventory_item_upsert(facts=facts)[1] for facts in ingest.product_inventory_facts(data)]
    records_ingested_total.labels(source="shopify", kind="inventory").inc(len(outcomes))
    return ",".join(outcomes) or "no skus"


def _inventory_item(data: dict, client: ShopifyClient) -> str:
    return inventory_item_upsert(facts=ingest.inventory_item_facts(data))[1]


def _inventory_level(data: dict, client: ShopifyClient) -> str:
    item_id = ingest.shopify_id(data, "inventory_item_id")
    # A level is one location's count: the item's total needs every location's level.
    total = ingest.inventory_level_total(client.inventory_levels(item_id))
    _, outcome = inventory_quantity_set(shopify_id=item_id, quantity_available=total,
                                        source_updated_at=ingest.when(data, "updated_at"))
    records_ingested_total.labels(source="shopify", kind="inventory").inc()
    return outcome


def _uninstalled(data: dict, client: ShopifyClient) -> str:
    audit_log_write(event_type="shopify.app_uninstalled", payload={"shop": str(data.get("domain") or "")},
                    integration="shopify")
    logger.error("the Shopify app was uninstalled from %s: syncing stops until it is reinstalled", data.get("domain"))
    return "noted"


def _ignored(data: dict, client: ShopifyClient) -> str:
    return "noted"


HANDLERS: dict[str, Callable[[dict, ShopifyClient], str]] = {
    "customers/create": _customer, "customers/update": _customer, "customers/delete": _customer_deleted,
    "orders/create": _order, "orders/updated": _order, "orders/paid": _order, "orders/fulfilled": _order,
    "orders/cancelled": _order, "orders/partially_fulfilled": _order,
    "fulfillments/create": _order_of, "fulfillments/update": _order_of, "refunds/create": _order_of,
    "products/create": _product, "products/update": _product, "products/delete": _ignored,
    "inventory_levels/update": _inventory_level, "inventory_levels/connect": _inventory_level,
    "inventory_levels/disconnect": _inventory_level, "inventory_items/update": _inventory_item,
    "inventory_items/create": _inventory_item, "app/uninstalled": _uninstalled,
}


def process_shopify_event(delivery_id: int, *, client: ShopifyClient | None = None, replay: bool = False) -> str:
    """Apply one stored delivery. Whatever goes wrong is recorded on the delivery (failed, with the
    reason) so it can be replayed; transient provider and database errors then propagate for the
    caller to retry. A model's validation or a value the database refuses is not retried."""
    if not webhook_delivery_claim(delivery_id=delivery_id, retry_failed=replay):
        return "skipped"
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    handler = HANDLERS.get(delivery.topic)
    if handler is None:
        logger.info("shopify topic %r is not handled; stored and acknowledged", delivery.topic)
        webhook_delivery_finish(delivery_id=delivery_id, status=WebhookDelivery.Status.IGNORED)
        return "ignored"
    try:
        data = json.loads(bytes(delivery.body))
        if not isinstance(data, dict):
            raise InvalidPayload("body must be a JSON object")
        outcome = handler(data, client or ShopifyClient.from_settings())
    except (InvalidPayload, json.JSONDecodeError, UnicodeDecodeError) as exc:
        delivery_failed(delivery_id=delivery_id, exc=exc)
        return "invalid"
    except (ShopifyError, requests.RequestException, *TRANSIENT_DB_ERRORS) as exc:
        delivery_failed(delivery_id=delivery_id, exc=exc)
        if isinstance(exc, ShopifyError) and exc.permanent:
            return "failed"
        raise
    except Exception as exc:  # noqa: BLE001 - a ValidationError, IntegrityError, DataError or a bug: kept for replay
        logger.exception("shopify delivery %s (%s) failed unexpectedly", delivery_id, delivery.topic)
        delivery_failed(delivery_id=delivery_id, exc=exc)
        return "failed"
    webhook_delivery_finish(delivery_id=delivery_id, status=WebhookDelivery.Status.PROCESSED)
    _note_delta(delivery.topic)
    return outcome


_CURSOR_OF_TOPIC = {"customers": "customers", "orders": "orders", "fulfillments": "orders", "refunds": "orders",
                    "products": "inventory", "inventory_levels": "inventory", "inventory_items": "inventory"}


def _note_delta(topic: str) -> None:
    """A processed webhook is a delta: the stale-cursor alert watches `last_delta_at`."""
    resource = _CURSOR_OF_TOPIC.get(topic.split("/")[0])
    if resource:
        cursor, _ = ShopifyCursor.objects.get_or_create(resource=resource)
        ShopifyCursor.objects.filter(pk=cursor.pk).update(last_delta_at=timezone.now())
        shopify_cursor_lag_seconds.labels(resource=resource).set(0)
