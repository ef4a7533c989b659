"""Customers and orders as support reads them. Both mirror Shopify (changed there, synced here), so
the admin shows them and never edits them: an edit here would be overwritten by the next sync."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from customers.models import Customer, ErasureTombstone, Order
from omnichannel.admin import ReadOnlyAdminMixin
from omnichannel.formatting import money


def _address(address: dict) -> str:
    street = " ".join(filter(None, [address.get("address1", ""), address.get("address2", "")]))
    town = " ".join(filter(None, [address.get("zip", ""), address.get("city", "")]))
    return ", ".join(filter(None, [address.get("name", ""), street, town, address.get("province", ""),
                                   address.get("country", "")]))


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["email", "name", "segment", "lifetime_value", "orders_count", "updated_at"]
    list_filter = ["segment", "is_erased"]
    search_fields = ["email", "name", "=shopify_id"]
    fields = ["email", "name", "phone", "segment", "lifetime_value", "orders_count", "addresses", "tags",
              "shopify_id", "source_updated_at", "created_at", "updated_at", "is_erased", "erased_at"]
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description="lifetime value", ordering="lifetime_value_cents")
    def lifetime_value(self, obj):
        return money(obj.lifetime_value_cents, obj.currency)

    @admin.display(description="shipping addresses")
    def addresses(self, obj):
        rows = [(_address(a),) for a in (obj.shipping_addresses or []) if isinstance(a, dict)]
        return format_html_join("", "<div>{}</div>", rows) or "-"


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "customer", "email", "status", "total", "placed_at"]
    list_filter = ["status", "financial_status", "fulfillment_status"]
    search_fields = ["name", "=shopify_id", "email", "customer__email"]
    list_select_related = ["customer"]
    fields = ["name", "customer", "email", "status", "financial_status", "fulfillment_status", "total", "items",
              "refunds_list", "tracking_links", "ship_to", "placed_at", "cancelled_at", "shopify_id",
              "source_updated_at", "last_event_at", "created_at", "updated_at"]
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description="total", ordering="total_price_cents")
    def total(self, obj):
        return money(obj.total_price_cents, obj.currency)

    @admin.display(description="items")
    def items(self, obj):
        rows = [(li.get("quantity", 0), li.get("title") or li.get("sku") or "item", li.get("sku", ""),
                 money(li.get("price_cents"), obj.currency)) for li in (obj.line_items or []) if isinstance(li, dict)]
        if not rows:
            return "-"
        return format_html("<table>{}</table>", format_html_join(
            "", "<tr><td>{} ×</td><td>{}</td><td><small>{}</small></td><td>{}</td></tr>", rows))

    @admin.display(description="refunds")
    def refunds_list(self, obj):
        rows = [(money(r.get("amount_cents"), obj.currency), (r.get("created_at") or "")[:10], r.get("note", ""))
                for r in (obj.refunds or []) if isinstance(r, dict)]
        return format_html_join("", "<div>{} on {} {}</div>", rows) or "-"

    @admin.display(description="tracking")
    def tracking_links(self, obj):
        parts = []
        for t in (t for t in obj.tracking or [] if isinstance(t, dict)):
            label = f"{t.get('company', '')} {t.get('number', '')}".strip()
            url = t.get("url") or ""
            if url.startswith(("https://", "http://")):  # never a javascript: or data: link
                parts.append(format_html('<div><a href="{}" rel="noopener noreferrer" target="_blank">{}</a></div>',
                                         url, label))
            else:
                parts.append(format_html("<div>{}</div>", label))
        return format_html("{}" * len(parts), *parts) if parts else "-"

    @admin.display(description="ship to")
    def ship_to(self, obj):
        return _address(obj.shipping_address) if isinstance(obj.shipping_address, dict) else "-"


@admin.register(ErasureTombstone)
class ErasureTombstoneAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What erasures leave behind: keyed hashes only (no address or id can be read back from them)."""

    list_display = ["erased_at", "kind", "key"]
    list_filter = ["kind"]
    search_fields = ["=key"]
    show_full_result_count = False
