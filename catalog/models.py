from __future__ import annotations

from django.db import models


class InventoryItemQuerySet(models.QuerySet):
    def sellable(self) -> InventoryItemQuerySet:
        """Items of products the shop still sells: what availability answers may offer."""
        return self.filter(deleted_at__isnull=True)


class InventoryItem(models.Model):
    """One sellable variant's stock: used for availability and lead-time answers."""

    sku = models.CharField(max_length=100, unique=True)
    shopify_id = models.CharField(max_length=32, null=True, blank=True, unique=True,
                                  help_text="Shopify inventory item id")
    variant_id = models.CharField(max_length=32, blank=True)
    product_id = models.CharField(max_length=32, blank=True)
    title = models.CharField(max_length=300, blank=True)
    # Unknown (empty) until Shopify states it: a product event without inventory_quantity says
    # nothing about stock, and 0 would have us tell a customer "out of stock".
    quantity_available = models.IntegerField(null=True, blank=True, default=None,
                                             help_text="Summed over locations; empty while Shopify has not stated it")
    lead_time_days = models.PositiveIntegerField(null=True, blank=True,
                                                 help_text="Days to restock; kept when Shopify sends nothing")
    price_cents = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="USD")
    tracked = models.BooleanField(default=True)
    source_updated_at = models.DateTimeField(null=True, blank=True)
    # Set by products/delete; the row is kept (orders and requests still name the sku). A product
    # version newer than this clears it again.
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="When Shopify deleted the product; empty "
                                      "while it is sold")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = InventoryItemQuerySet.as_manager()

    class Meta:
        db_table = "inventory_items"
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity_available__gte=0), name="inventory_quantity_non_negative"),
            models.CheckConstraint(condition=models.Q(price_cents__gte=0), name="inventory_price_non_negative"),
        ]
        indexes = [models.Index(fields=["title"], name="inventory_title_idx")]

    def __str__(self) -> str:
        return f"{self.sku} {self.title}".strip()


class ProductRequest(models.Model):
    """Something a customer asked for that the shop does not stock (or stocks out)."""

    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="product_requests")
    conversation = models.ForeignKey("conversations.Conversation", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="product_requests")
    description = models.TextField()
    normalized = models.CharField(max_length=200, db_index=True, help_text="Normalized request text (the group key)")
    count = models.PositiveIntegerField(default=1)
    # The messages already in `count` (ids; a re-draft or a replay of one must not count it again).
    counted_message_ids = models.JSONField(default=list, blank=True)
    trend_score = models.FloatField(default=0.0)
    requested_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "product_requests"
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(count__gte=1), name="product_request_count_positive"),
            # One row per request per conversation: re-reading a thread never double counts.
            models.UniqueConstraint(fields=["conversation", "normalized"], name="product_request_unique_per_conversation"),
        ]

    def __str__(self) -> str:
        return self.normalized
