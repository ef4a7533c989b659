from django.contrib import admin

from catalog.models import InventoryItem, ProductRequest


@admin.register(InventoryItem)
class InventoryItemAdmin(admin.ModelAdmin):
    list_display = ["sku", "title", "quantity_available", "lead_time_days", "price_cents", "updated_at"]
    search_fields = ["sku", "title", "=shopify_id"]
    readonly_fields = ["shopify_id", "source_updated_at", "created_at", "updated_at"]


@admin.register(ProductRequest)
class ProductRequestAdmin(admin.ModelAdmin):
    list_display = ["normalized", "count", "trend_score", "customer", "conversation", "requested_at"]
    search_fields = ["normalized", "description"]
    list_select_related = ["customer", "conversation"]
    raw_id_fields = ["customer", "conversation"]
