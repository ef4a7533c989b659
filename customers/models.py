from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower


class Customer(models.Model):
    """Consolidated customer facts (Shopify customers and email-only leads)."""

    class Segment(models.TextChoices):
        LEAD = "lead", "Lead (no orders)"
        NEW = "new", "New"
        RETURNING = "returning", "Returning"
        VIP = "vip", "VIP"
        AT_RISK = "at_risk", "At risk"

    email = models.EmailField(max_length=254, blank=True)
    shopify_id = models.CharField(max_length=32, null=True, blank=True, unique=True)
    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    lifetime_value_cents = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="USD")
    orders_count = models.PositiveIntegerField(default=0)
    segment = models.CharField(max_length=20, choices=Segment.choices, default=Segment.LEAD)
    shipping_addresses = models.JSONField(default=list, blank=True)
    tags = models.CharField(max_length=500, blank=True)
    source_updated_at = models.DateTimeField(null=True, blank=True, help_text="updated_at in Shopify")
    is_erased = models.BooleanField(default=False)
    erased_at = models.DateTimeField(null=True, blank=True)
    # Nullable so SQLite adds the column in place: rebuilding `customers` would break the customer_summary view.
    shopify_deleted_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When the shop deleted this customer in Shopify; our history is kept (erasure is a separate request)",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "customers"
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), condition=~models.Q(email=""), name="customer_email_unique_ci"),
            models.CheckConstraint(condition=models.Q(lifetime_value_cents__gte=0), name="customer_ltv_non_negative"),
            models.CheckConstraint(
                condition=models.Q(segment__in=["lead", "new", "returning", "vip", "at_risk"]),
                name="customer_segment_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email or f"customer {self.pk}"


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending payment"
        PAID = "paid", "Paid, not shipped"
        BACKORDERED = "backordered", "Backordered"
        PARTIALLY_FULFILLED = "partially_fulfilled", "Partially shipped"
        FULFILLED = "fulfilled", "Shipped"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        REFUNDED = "refunded", "Refunded"
        CANCELLED = "cancelled", "Cancelled"

    shopify_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=50, blank=True, help_text="The shop's order name, e.g. #1001")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders",
        help_text="Empty for a guest checkout",
    )
    # Nullable so SQLite adds the column in place: rebuilding `orders` would break the customer_summary view.
    customer_shopify_id = models.CharField(
        max_length=32, null=True, blank=True,
        help_text="The customer's Shopify id as the order names it: links the order when the customer arrives later",
    )
    email = models.EmailField(max_length=254, blank=True, help_text="The checkout email (kept for guests)")
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.PENDING)
    financial_status = models.CharField(max_length=30, blank=True)
    fulfillment_status = models.CharField(max_length=30, blank=True)
    tracking_numbers = models.JSONField(default=list, blank=True)
    tracking = models.JSONField(default=list, blank=True, help_text="[{number, company, url}] from fulfillments")
    line_items = models.JSONField(default=list, blank=True, help_text="[{sku, title, quantity, price_cents}]")
    refunds = models.JSONField(default=list, blank=True)
    total_price_cents = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="USD")
    shipping_address = models.JSONField(default=dict, blank=True)
    placed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    source_updated_at = models.DateTimeField(null=True, blank=True, help_text="updated_at in Shopify")
    is_erased = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "orders"
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(total_price_cents__gte=0), name="order_total_non_negative"),
            models.CheckConstraint(
                condition=models.Q(status__in=[
                    "pending", "paid", "backordered", "partially_fulfilled", "fulfilled",
                    "partially_refunded", "refunded", "cancelled",
                ]),
                name="order_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-placed_at"], name="order_customer_recent_idx"),
            models.Index(Lower("email"), name="order_email_ci_idx"),
            models.Index(fields=["source_updated_at"], name="order_source_updated_idx"),
            # Only orders still waiting for their customer: the relink after a customer upsert reads these.
            models.Index(fields=["customer_shopify_id"], condition=models.Q(customer__isnull=True),
                         name="order_unlinked_customer_idx"),
        ]

    def __str__(self) -> str:
        return self.name or f"order {self.shopify_id}"


class ErasureTombstone(models.Model):
    """What an erasure leaves so that it sticks: a keyed hash (omnichannel.pii.pii_key) of each
    identifier of the erased person, never the identifier itself. Every ingest path consults these
    (customers/services.py, conversations' message_ingest) before it writes personal data."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email address"
        SHOPIFY_CUSTOMER = "shopify_customer", "Shopify customer id"
        SHOPIFY_ORDER = "shopify_order", "Shopify order id"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=64, unique=True, help_text="HMAC-SHA256 of kind and identifier (PII_HASH_SALT)")
    erased_at = models.DateTimeField(help_text="The latest erasure of this identifier")

    class Meta:
        db_table = "erasure_tombstones"
        ordering = ["-erased_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=["email", "shopify_customer", "shopify_order"]),
                                   name="erasure_tombstone_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} erased at {self.erased_at:%Y-%m-%d %H:%M}"


class DataRequest(models.Model):
    """A customer's request for the data we hold about them (Shopify's customers/data_request):
    an export (JSON) written to the blob store for Ops to download and hand to the shop."""

    class Status(models.TextChoices):
        PENDING = "pending", "Being exported"
        READY = "ready", "Ready to download"
        EXPIRED = "expired", "Expired (export deleted)"
        ERASED = "erased", "Erased (the customer was erased)"

    source = models.CharField(max_length=20, default="shopify")
    external_id = models.CharField(max_length=64, blank=True, help_text="Shopify's data_request id")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    shopify_customer_id = models.CharField(max_length=32, blank=True)
    email = models.EmailField(max_length=254, blank=True, help_text="The address the request names")
    orders_requested = models.JSONField(default=list, blank=True, help_text="Shopify order ids the request names")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    blob_key = models.CharField(max_length=300, blank=True, help_text="The encrypted export in the blob store")
    counts = models.JSONField(default=dict, blank=True, help_text="Records in the export, per kind")
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "data_requests"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], condition=~models.Q(external_id=""),
                                    name="data_request_unique_external_id"),
            models.CheckConstraint(condition=models.Q(status__in=["pending", "ready", "expired", "erased"]),
                                   name="data_request_status_valid"),
        ]

    def __str__(self) -> str:
        return f"data request {self.external_id or self.pk} ({self.get_status_display()})"
