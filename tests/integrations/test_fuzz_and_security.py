"""Normalizers never raise anything but our own validation error; the deployment settings are safe.

Every public function of the three normalizer modules (`grep '^def [a-z]'`) gets hypothesis-made
input shaped like what Shopify and Zoho send (known keys, nested lists of objects) with every
field possibly missing, null, of the wrong type, huge, or odd unicode (NUL, bidi marks, emoji,
zero-width, control characters; never lone surrogates, which JSON bodies cannot carry as UTF-8).
`graphql_ingest.bulk_query` is left out: it builds our own query from our own cursor, no outside input.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.shopify import graphql_ingest as graphql
from integrations.shopify import ingest as shopify
from integrations.zoho import ingest as zoho
from omnichannel.errors import InvalidPayload

ODD = ["\x00", "\u200b", "\ufeff", "\u202e", "\U0001f600", "\x0b", "\x1b", "\r\n", "\u0301", "\uffff", "é", "<", "&lt;",
       "'", '"', "\\", "gid://shopify/Order/", "@"]
plain_text = st.text(max_size=40)  # hypothesis' default alphabet: all of unicode but surrogates, NUL included
odd_text = st.lists(st.sampled_from(ODD) | plain_text, max_size=8).map("".join)
huge_text = st.one_of(st.text(min_size=0, max_size=20000),
                      st.tuples(odd_text | plain_text, st.integers(1, 20000)).map(lambda t: (t[0] * t[1])[:20000]))
numeric_text = st.one_of(st.from_regex(r"\A-?[0-9]{1,25}(\.[0-9]{0,12})?\Z"), st.sampled_from(
    ["1e400", "-0", "NaN", "Infinity", "1_000", " 42 ", "٣", "²", "0x1f", "", "  "]))
times = st.one_of(st.datetimes(timezones=st.timezones() | st.none()).map(lambda d: d.isoformat()),
                  st.sampled_from(["2026-13-40T99:99:99Z", "2026-11-01T00:00:00", "2026-11-01T00:00:00+99:00",
                                   "yesterday", "1764000000000"]))
ids = st.one_of(st.integers(-2, 2**70), st.sampled_from(["gid://shopify/Order/1", "gid://shopify/Order/x", "gid://"]),
                numeric_text)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), plain_text, odd_text,
                    numeric_text, times, ids)
json_values = st.recursive(scalars | huge_text, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    plain_text | odd_text, inner, max_size=3), max_leaves=8)
field_value = st.one_of(scalars, scalars, huge_text, json_values)


def obj(keys: dict[str, st.SearchStrategy | None]):
    """A JSON object with any subset of `keys`, each value from its own strategy or from anything at all."""
    strategies = {k: (v | field_value) if v is not None else field_value for k, v in keys.items()}
    return st.fixed_dictionaries({}, optional=strategies)


def objects_or_anything(strategy):
    return st.lists(strategy, max_size=3) | field_value


def anything_or(strategy):
    """Mostly the expected shape, sometimes any JSON value at all (a list, a string, null)."""
    return st.one_of(strategy, strategy, strategy, json_values)


ADDRESS = obj({k: None for k in ("name", "address1", "address2", "city", "province", "zip", "country")})
LINE_ITEM = obj({"sku": odd_text, "name": None, "title": None, "quantity": st.integers(-5, 2**40), "price": numeric_text})
FULFILLMENT = obj({"status": st.sampled_from(["success", "cancelled"]), "tracking_number": None,
                   "tracking_numbers": st.lists(scalars, max_size=3), "tracking_url": None,
                   "tracking_urls": st.lists(scalars, max_size=3), "tracking_company": None})
REFUND = obj({"id": ids, "created_at": times, "note": None, "transactions": objects_or_anything(obj(
    {"amount": numeric_text, "kind": st.sampled_from(["refund", "sale"]), "status": None}))})
ORDER = obj({"id": ids, "name": None, "email": None, "contact_email": None, "customer": obj({"id": ids}),
             "financial_status": st.sampled_from(["paid", "refunded", "partially_refunded", "authorized", "pending"]),
             "fulfillment_status": st.sampled_from(["fulfilled", "partial"]), "cancelled_at": times,
             "total_price": numeric_text, "currency": None, "line_items": objects_or_anything(LINE_ITEM),
             "fulfillments": objects_or_anything(FULFILLMENT), "refunds": objects_or_anything(REFUND),
             "created_at": times, "updated_at": times, "shipping_address": ADDRESS})
CUSTOMER = obj({"id": ids, "email": None, "first_name": huge_text, "last_name": None, "phone": None,
                "orders_count": st.integers(-3, 2**40), "total_spent": numeric_text, "currency": None,
                "addresses": objects_or_anything(ADDRESS), "default_address": ADDRESS, "tags": huge_text,
                "updated_at": times})
VARIANT = obj({"id": ids, "sku": odd_text, "title": None, "inventory_item_id": ids, "price": numeric_text,
               "inventory_quantity": st.integers(-2**40, 2**40), "updated_at": times})
PRODUCT = obj({"id": ids, "title": huge_text, "variants": objects_or_anything(VARIANT), "updated_at": times})
INVENTORY_ITEM = obj({"id": ids, "sku": odd_text, "tracked": st.booleans(), "updated_at": times})
LEVELS = objects_or_anything(obj({"available": st.integers(-2**40, 2**40), "location_id": ids}))


def connection(node):
    """A GraphQL connection: {nodes: [...]}, {edges: [{node}]}, or anything else."""
    return st.one_of(st.fixed_dictionaries({"nodes": objects_or_anything(node)}),
                     st.fixed_dictionaries({"edges": objects_or_anything(st.fixed_dictionaries({"node": node}))}))


MONEY = obj({"shopMoney": obj({"amount": numeric_text, "currencyCode": None}), "amount": numeric_text,
             "currencyCode": None})
GQL_ORDER = obj({"id": ids, "name": None, "email": None, "customer": obj({"id": ids}),
                 "displayFinancialStatus": st.sampled_from(["PAID", "REFUNDED", "PENDING"]),
                 "displayFulfillmentStatus": st.sampled_from(["FULFILLED", "PARTIALLY_FULFILLED", "RESTOCKED"]),
                 "cancelledAt": times, "createdAt": times, "updatedAt": times, "currencyCode": None,
                 "totalPriceSet": MONEY, "shippingAddress": ADDRESS,
                 "fulfillments": objects_or_anything(obj({"status": st.sampled_from(["SUCCESS", "CANCELLED"]),
                                                          "trackingInfo": objects_or_anything(obj(
                                                              {"number": None, "company": None, "url": None}))})),
                 "refunds": objects_or_anything(obj({"id": ids, "createdAt": times, "note": None,
                                                     "totalRefundedSet": MONEY})),
                 "lineItems": connection(obj({"id": ids, "sku": odd_text, "name": None, "quantity": st.integers(-5, 99),
                                              "originalUnitPriceSet": MONEY}))})
GQL_CUSTOMER = obj({"id": ids, "email": None, "firstName": huge_text, "lastName": None, "phone": None,
                    "numberOfOrders": st.integers(-3, 2**40) | numeric_text, "amountSpent": MONEY,
                    "tags": st.lists(odd_text, max_size=3), "addresses": objects_or_anything(ADDRESS),
                    "defaultAddress": ADDRESS, "updatedAt": times})
GQL_PRODUCT = obj({"id": ids, "title": huge_text, "updatedAt": times, "variants": connection(obj(
    {"id": ids, "title": None, "sku": odd_text, "price": numeric_text, "inventoryQuantity": st.integers(-5, 2**40),
     "updatedAt": times, "inventoryItem": obj({"id": ids, "tracked": st.booleans()})}))})
EMAILS = st.one_of(st.emails().map(str), st.sampled_from(['"Name" <a@b.com>, c@d.com', "&lt;a@b.com&gt;", "@", "<>",
                                                          "a@b.com\x00", '"\\" <x@y.z>', "=?utf-8?q?x?= <a@b.c>"]))
MAIL = obj({"messageId": numeric_text | ids, "folderId": None, "threadId": None, "subject": huge_text, "summary": None,
            "fromAddress": EMAILS, "toAddress": EMAILS, "ccAddress": EMAILS, "sender": None,
            "receivedTime": st.integers(-2**63, 2**63) | numeric_text | times, "sentDateInGMT": numeric_text | times,
            "html": huge_text | odd_text, "content": huge_text, "inReplyTo": None, "references": None,
            "hasAttachment": st.sampled_from(["0", "1", "true", 1, True]), "rfcMessageId": None})


def only_our_error(fn, *args, **kwargs) -> None:
    """The contract under test: a normalizer returns, or refuses with InvalidPayload; anything else fails the test."""
    try:
        fn(*args, **kwargs)
    except InvalidPayload as exc:
        assert exc.message, "a refusal must say what is wrong"


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.django_db
@FUZZ
@given(order=anything_or(ORDER), out_of_stock=st.none() | st.sets(odd_text, max_size=3))
def test_shopify_order_normalizers(order, out_of_stock):
    only_our_error(shopify.order_facts, order)
    only_our_error(shopify.order_facts, order, out_of_stock=out_of_stock)
    if isinstance(order, dict):
        items = [{"sku": li.get("sku") if isinstance(li.get("sku"), str) else ""}
                 for li in order.get("line_items") or [] if isinstance(li, dict)] if isinstance(
            order.get("line_items"), list) else []
        only_our_error(shopify.order_status, order, items, out_of_stock)


@pytest.mark.django_db
@FUZZ
@given(skus=st.sets(odd_text | huge_text, max_size=4))
def test_shopify_out_of_stock_lookup(skus):
    only_our_error(shopify.out_of_stock_skus, skus)


@pytest.mark.parametrize("value", ["0000-01-01T00:00:00+00:00", "2026-11-01T00:00:00-30:00"])
def test_impossible_time_is_refused_clearly(value):
    with pytest.raises(InvalidPayload):
        shopify.when({"updated_at": value}, "updated_at")


@pytest.mark.parametrize("value", ["NaN", "1e30000000"])
def test_impossible_amount_is_refused_clearly(value):
    with pytest.raises(InvalidPayload):
        shopify.cents(value, "total_price")


@pytest.mark.django_db
def test_nul_in_a_sku_is_refused_or_stripped():
    order = {"id": 1, "financial_status": "paid", "line_items": [{"sku": "A\x00B", "quantity": 1, "price": "1.00"}]}
    only_our_error(shopify.order_facts, order)


@FUZZ
@given(customer=anything_or(CUSTOMER), product=anything_or(PRODUCT), item=INVENTORY_ITEM, levels=LEVELS)
def test_shopify_customer_product_and_inventory_normalizers(customer, product, item, levels):
    only_our_error(shopify.customer_facts, customer)
    only_our_error(shopify.product_inventory_facts, product)
    only_our_error(shopify.inventory_item_facts, item)
    only_our_error(shopify.inventory_level_total, levels)


# Inputs this fuzz found escaping as other exceptions (since fixed), pinned as regressions.
def test_a_superscript_order_count_is_refused_clearly():
    with pytest.raises(InvalidPayload):
        graphql.customer_facts({"id": 1, "numberOfOrders": "²"})


def test_a_connection_with_numeric_edges_is_refused_clearly():
    with pytest.raises(InvalidPayload):
        graphql.order_facts({"id": 1, "lineItems": {"edges": 5}})


@FUZZ
@given(value=field_value, name=st.sampled_from(["id", "updated_at", "x"]), flag=st.booleans())
def test_shopify_field_readers(value, name, flag):
    only_our_error(shopify.shopify_id, {name: value}, name, required=flag)
    only_our_error(shopify.when, {name: value}, name, required=flag)
    only_our_error(shopify.cents, value, name)
    only_our_error(shopify.quantity, value, name, negative_ok=flag)


@pytest.mark.django_db
@FUZZ
@given(order=anything_or(GQL_ORDER), customer=anything_or(GQL_CUSTOMER), product=anything_or(GQL_PRODUCT),
       connection_value=field_value | connection(field_value))
def test_shopify_graphql_normalizers(order, customer, product, connection_value):
    only_our_error(graphql.order_facts, order)
    only_our_error(graphql.order_skus, order)
    only_our_error(graphql.customer_facts, customer)
    only_our_error(graphql.product_inventory_facts, product)
    only_our_error(graphql.nodes, {"lineItems": connection_value}, "lineItems")


@FUZZ
@given(message=MAIL, raw=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()),
       text=huge_text | odd_text, value=json_values)
def test_zoho_normalizers(message, raw, text, value):
    only_our_error(zoho.zoho_message_facts, message, client=None)
    only_our_error(zoho.zoho_payload_parse, raw)
    only_our_error(zoho.without_nul, value)
    only_our_error(zoho.addresses, text)
    only_our_error(zoho.html_to_text, text)


def test_deeply_nested_address_comments_are_refused_clearly():
    only_our_error(zoho.zoho_message_facts, {"messageId": "1", "fromAddress": "a@b.com", "receivedTime": "1",
                                             "toAddress": "(" * 5000}, client=None)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(message=MAIL)
def test_zoho_ingest_stores_or_refuses(message):
    # As a delivery's bytes reach it: parsed once (NULs removed there), then ingested.
    only_our_error(lambda: zoho.zoho_message_ingest(zoho.zoho_payload_parse(json.dumps(message).encode()),
                                                    client=None))


def test_check_deploy_with_production_settings_reports_nothing():
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DJANGO_PRODUCTION": "true", "DJANGO_DEBUG": "false",
           "DJANGO_SECRET_KEY": "x" * 64 + "production-secret-key-for-check",
           "DJANGO_ALLOWED_HOSTS": "support.example.com", "DATABASE_URL": "sqlite:////tmp/check-deploy.sqlite3",
           "ZOHO_WEBHOOK_SECRET": "z" * 40, "SHOPIFY_WEBHOOK_SECRET": "s" * 40, "PII_HASH_SALT": "p" * 40,
           "ARCHIVE_ENCRYPTION_KEY": base64.urlsafe_b64encode(b"k" * 32).decode(),
           # Production refuses the fakes: live modes with (unused) credentials.
           "ZOHO_MODE": "live", "ZOHO_CLIENT_ID": "client", "ZOHO_CLIENT_SECRET": "c" * 32,
           "ZOHO_REFRESH_TOKEN": "r" * 32, "ZOHO_ACCOUNT_ID": "123456", "ZOHO_SENT_FOLDER": "9000000002014",
           "SHOPIFY_MODE": "live", "SHOPIFY_ACCESS_TOKEN": "shpat_" + "a" * 32}
    env.pop("REDIS_URL", None)
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=root,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
