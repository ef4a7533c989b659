"""Normalizers never raise anything but our own validation error; the deployment settings are safe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.shopify import ingest as shopify
from integrations.zoho.ingest import zoho_message_facts, zoho_payload_parse
from omnichannel.errors import InvalidPayload

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=300),
                    st.text(alphabet="0123456789", min_size=1, max_size=20))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                           max_size=4), max_leaves=12)


def _payload(keys: list[str]):
    return st.dictionaries(st.sampled_from(keys), values, max_size=len(keys))


ORDER_KEYS = ["id", "name", "email", "customer", "financial_status", "fulfillment_status", "cancelled_at", "total_price",
              "currency", "line_items", "fulfillments", "refunds", "created_at", "updated_at", "shipping_address"]
CUSTOMER_KEYS = ["id", "email", "first_name", "last_name", "orders_count", "total_spent", "addresses", "updated_at", "tags"]
PRODUCT_KEYS = ["id", "title", "variants", "updated_at"]
ZOHO_KEYS = ["messageId", "folderId", "threadId", "subject", "summary", "fromAddress", "toAddress", "ccAddress",
             "receivedTime", "sentDateInGMT", "html", "content", "inReplyTo", "references", "hasAttachment", "sender"]


def _only_our_error(fn, data) -> None:
    try:
        fn(data)
    except InvalidPayload:
        pass


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(order=_payload(ORDER_KEYS), customer=_payload(CUSTOMER_KEYS), product=_payload(PRODUCT_KEYS))
def test_shopify_normalizers_ingest_or_refuse_clearly(order, customer, product):
    _only_our_error(shopify.order_facts, order)
    _only_our_error(shopify.customer_facts, customer)
    _only_our_error(shopify.product_inventory_facts, product)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(message=_payload(ZOHO_KEYS), raw=st.binary(max_size=200))
def test_zoho_normalizer_ingests_or_refuses_clearly(message, raw):
    _only_our_error(lambda m: zoho_message_facts(m, client=None), message)
    _only_our_error(zoho_payload_parse, raw)


def test_check_deploy_with_production_settings_reports_nothing():
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DJANGO_PRODUCTION": "true", "DJANGO_DEBUG": "false",
           "DJANGO_SECRET_KEY": "x" * 64 + "production-secret-key-for-check",
           "DJANGO_ALLOWED_HOSTS": "support.example.com", "DATABASE_URL": "sqlite:////tmp/check-deploy.sqlite3",
           "ZOHO_WEBHOOK_SECRET": "z" * 40, "SHOPIFY_WEBHOOK_SECRET": "s" * 40}
    env.pop("REDIS_URL", None)
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=root,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
