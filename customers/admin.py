from django.contrib import admin

from customers.models import Customer, Order


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "segment", "lifetime_value_cents", "orders_count", "shopify_id", "updated_at"]
    list_filter = ["segment", "is_erased"]
    search_fields = ["email", "name", "=shopify_id"]
    readonly_fields = ["shopify_id", "source_updated_at", "created_at", "updated_at", "erased_at"]
    show_full_result_count = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["name", "shopify_id", "customer", "email", "status", "total_price_cents", "placed_at"]
    list_filter = ["status", "financial_status", "fulfillment_status"]
    search_fields = ["name", "=shopify_id", "email", "customer__email"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]
    readonly_fields = ["shopify_id", "source_updated_at", "last_event_at", "created_at", "updated_at"]
    show_full_result_count = False
