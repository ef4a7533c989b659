"""A customer's request for the data we hold about them (Shopify's customers/data_request).

The request is recorded at once; the export is written after commit by `export_data_request`:
one JSON document of everything we hold about the person (customer rows, orders, conversations
with every message, including the content of archived ones, and product requests: the last two
are sections the conversations and catalog apps add, customers/parts.py), encrypted
(omnichannel/encryption.py) into the blob store. Ops download it from the admin (Data requests,
visible to Ops only; each download is audited) and hand it to the shop, which answers the customer.
Exports are deleted DATA_EXPORT_KEEP_DAYS after they were written (`data_exports_expire`, nightly),
and at once when the customer is erased.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from customers.models import Customer, DataRequest, Order
from customers.parts import Export, export_parts
from customers.selectors import tombstones_covering
from omnichannel.audit import audit_log_write
from omnichannel.blobstore import blob_delete, blob_get, blob_put_named
from omnichannel.encryption import archive_decrypt, archive_encrypt
from omnichannel.errors import ApplicationError, StateConflict
from omnichannel.jobs import enqueue
from omnichannel.pii import pii_hash
from omnichannel.task_names import TaskName

_CUSTOMER_FIELDS = ["id", "shopify_id", "email", "name", "phone", "segment", "lifetime_value_cents", "currency",
                    "orders_count", "shipping_addresses", "tags", "created_at", "updated_at"]
_ORDER_FIELDS = ["shopify_id", "name", "email", "status", "financial_status", "fulfillment_status", "tracking",
                 "line_items", "refunds", "total_price_cents", "currency", "shipping_address", "placed_at",
                 "cancelled_at"]


@transaction.atomic
def data_request_create(*, external_id: str, shopify_customer_id: str = "", email: str = "",
                        orders_requested: Iterable[str] = (), source: str = "shopify",
                        integration: str | None = "shopify", acting_user=None) -> tuple[DataRequest, bool]:
    """Record a request (once per provider request id: a redelivery is the same request) and have its
    export written after commit. Returns (request, created). Ops record one from the admin for an access
    request that came by email (source "admin", `acting_user`, no provider id)."""
    external_id, email = str(external_id or "").strip(), (email or "").strip().lower()
    shopify_customer_id = str(shopify_customer_id or "").strip()
    if not (email or shopify_customer_id):
        raise ApplicationError("a data request needs the customer's email address or Shopify id")
    if external_id:
        existing = DataRequest.objects.filter(source=source, external_id=external_id).first()
        if existing is not None:
            return existing, False
    customer = (Customer.objects.filter(shopify_id=shopify_customer_id, is_erased=False).first() if shopify_customer_id
                else None) or (Customer.objects.filter(email__iexact=email, is_erased=False).first() if email else None)
    if email and tombstones_covering(emails=[email], shopify_customer_ids=[shopify_customer_id]).customer(
            email=email, shopify_id=shopify_customer_id):
        email = pii_hash(email)  # erased already: what we hold of her is ids and counts, and so is this row
    request = DataRequest.objects.create(
        source=source, external_id=external_id[:64], customer=customer, shopify_customer_id=shopify_customer_id[:32],
        email=email, orders_requested=[str(o) for o in orders_requested][:1000])
    audit_log_write(event_type="data_request.received", integration=integration, acting_user=acting_user,
                    obj=request,
                    payload={"external_id": external_id, "customer_id": customer.pk if customer else None})
    enqueue(TaskName.EXPORT_DATA_REQUEST, request.pk)
    return request, True


def _document(request: DataRequest) -> tuple[dict, dict[str, int]]:
    """The export and its counts: customers' own rows here, then the sections of the apps above it, in the
    order of customers/parts.py (conversations, product requests)."""
    parts = export_parts()  # a part missing would leave a section out: refused before anything is read
    customers = list(Customer.objects.filter(
        Q(pk=request.customer_id) | (Q(shopify_id=request.shopify_customer_id) if request.shopify_customer_id
                                     else Q(pk__in=[])) | (Q(email__iexact=request.email) if request.email
                                                           else Q(pk__in=[]))).order_by("pk"))
    emails = {c.email.lower() for c in customers if c.email} | ({request.email} if request.email else set())
    by_email = Q(pk__in=[])
    for address in emails:
        by_email |= Q(email__iexact=address)
    orders = Order.objects.filter(Q(customer__in=customers) | by_email | Q(shopify_id__in=request.orders_requested))
    document = {
        "format": "omnichannel data export, version 1",
        "generated_at": timezone.now(),
        "request": {"source": request.source, "id": request.external_id, "received_at": request.created_at,
                    "shopify_customer_id": request.shopify_customer_id, "email": request.email,
                    "orders_requested": request.orders_requested},
        "customers": [{name: getattr(c, name) for name in _CUSTOMER_FIELDS} for c in customers],
        "orders": [{name: getattr(o, name) for name in _ORDER_FIELDS} for o in orders.order_by("placed_at", "pk")],
    }
    counts = {"customers": len(document["customers"]), "orders": len(document["orders"])}
    export = Export(customers=customers, emails=emails)
    for _app, part in parts:
        sections, part_counts = part(export)
        document.update(sections)
        counts.update(part_counts)
    return document, counts


def data_request_export(*, data_request_id: int) -> str:
    """Write the export of a pending request (reads, then the blob outside any transaction, then the
    row). An erasure that lands meanwhile wins: the export just written is deleted again."""
    request = DataRequest.objects.get(pk=data_request_id)
    if request.status != DataRequest.Status.PENDING:
        return request.blob_key
    document, counts = _document(request)
    # A name no one can guess from the request's id: the blob store is not the admin's permission check.
    key = blob_put_named(f"exports/data-requests/{request.pk}-{secrets.token_hex(8)}.fernet",
                         archive_encrypt(json.dumps(document, cls=DjangoJSONEncoder, indent=2).encode()))
    with transaction.atomic():
        ready = DataRequest.objects.filter(pk=request.pk, status=DataRequest.Status.PENDING).update(
            status=DataRequest.Status.READY, blob_key=key, counts=counts, ready_at=timezone.now(),
            updated_at=timezone.now())
        if ready:
            audit_log_write(event_type="data_request.exported", integration="export", obj=request, payload=counts)
        else:
            transaction.on_commit(lambda: blob_delete(key))
    return key if ready else ""


@transaction.atomic
def data_request_download(*, data_request_id: int, acting_user) -> tuple[DataRequest, bytes]:
    """The decrypted export, for an Ops user (the admin checks the permission); every download is audited."""
    request = DataRequest.objects.get(pk=data_request_id)
    if request.status != DataRequest.Status.READY or not request.blob_key:
        raise StateConflict(f"data request {request.pk} has no export to download ({request.get_status_display()})")
    data = archive_decrypt(blob_get(request.blob_key))
    audit_log_write(event_type="data_request.downloaded", acting_user=acting_user, obj=request, payload={})
    return request, data


@transaction.atomic
def data_exports_expire(*, now=None) -> int:
    """Delete the exports written more than DATA_EXPORT_KEEP_DAYS ago (the request rows stay)."""
    now = now or timezone.now()
    expired = list(DataRequest.objects.select_for_update().filter(
        status=DataRequest.Status.READY, ready_at__lt=now - timedelta(days=settings.DATA_EXPORT_KEEP_DAYS))
        .order_by("pk").values_list("pk", "blob_key"))
    if not expired:
        return 0
    DataRequest.objects.filter(pk__in=[pk for pk, _ in expired]).update(
        status=DataRequest.Status.EXPIRED, blob_key="", updated_at=now)
    audit_log_write(event_type="data_request.exports_expired", integration="retention",
                    payload={"data_request_ids": [pk for pk, _ in expired], "keep_days": settings.DATA_EXPORT_KEEP_DAYS})
    keys = [key for _, key in expired if key]
    transaction.on_commit(lambda: [blob_delete(key) for key in keys])
    return len(expired)
