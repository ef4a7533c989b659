"""Customers and orders as support reads them. Both mirror Shopify (changed there, synced here), so
the admin shows them and never edits them: an edit here would be overwritten by the next sync."""

import re

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from customers.models import Customer, DataRequest, ErasureTombstone, Order
from customers.services_data_requests import data_request_create, data_request_download
from customers.services_erasure import customer_erase
from omnichannel.admin import ReadOnlyAdminMixin
from omnichannel.errors import ApplicationError
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

    # Whoever may download data-request exports (Ops) may have one written for a customer.
    EXPORT_PERMISSION = "customers.view_datarequest"

    # Whoever may erase a privacy requester (Ops) may erase a customer who asked another way (phone, letter).
    ERASE_PERMISSION = "conversations.erase_sender"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_export": request.user.has_perm(self.EXPORT_PERMISSION),
                         "can_erase": request.user.has_perm(self.ERASE_PERMISSION)}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [path("<int:customer_id>/export/", self.admin_site.admin_view(self.export_view),
                     name="customers_customer_export"),
                path("<int:customer_id>/erase/", self.admin_site.admin_view(self.erase_view),
                     name="customers_customer_erase"), *super().get_urls()]

    def erase_view(self, request, customer_id: int):
        """A confirmation page (GET), then `customer_erase` (POST): the same erasure as the privacy request's
        button, `erase_customer` and the API, audited as this Ops person's."""
        if not request.user.has_perm(self.ERASE_PERMISSION):
            raise PermissionDenied
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None:
            raise Http404(f"no customer {customer_id}")
        back = reverse("admin:customers_customer_change", args=[customer.pk])
        if customer.is_erased:
            self.message_user(request, "This customer is erased already.", messages.WARNING)
            return HttpResponseRedirect(back)
        if request.method == "POST":
            try:
                report = customer_erase(email=customer.email, shopify_id=customer.shopify_id or "",
                                        acting_user=request.user)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return HttpResponseRedirect(back)
            counts = report.counts_text()
            self.message_user(request, f"Erased the customer's personal data ({counts}).", messages.SUCCESS)
            return HttpResponseRedirect(back)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "customer": customer,
                   "title": "Erase a customer's personal data"}
        return TemplateResponse(request, "admin/customers/customer/erase_confirm.html", context)

    def export_view(self, request, customer_id: int):
        """An access request that came by email ("send me my data"): record a data request for this
        customer (audited as the Ops person's) and go to it; its export is downloaded there, audited too."""
        if not request.user.has_perm(self.EXPORT_PERMISSION):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None:
            raise Http404(f"no customer {customer_id}")
        back = reverse("admin:customers_customer_change", args=[customer.pk])
        if customer.is_erased:
            self.message_user(request, "This customer is erased: we hold no personal data of theirs to export.",
                              messages.WARNING)
            return HttpResponseRedirect(back)
        try:
            data_request, _ = data_request_create(external_id="", email=customer.email,
                                                  shopify_customer_id=customer.shopify_id or "", source="admin",
                                                  integration=None, acting_user=request.user)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(back)
        self.message_user(request, f"Data request {data_request.pk} recorded for {customer.email or customer}: "
                                   "download its export here once it is ready.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:customers_datarequest_change", args=[data_request.pk]))

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


@admin.register(DataRequest)
class DataRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Customers' requests for their data (Shopify's customers/data_request), each export one download
    away. Only Ops see them (omnichannel/roles.py); every download is an audit event."""

    list_display = ["created_at", "external_id", "customer", "status", "ready_at", "download_link"]
    list_filter = ["status", "source"]
    search_fields = ["=external_id", "=shopify_customer_id", "email"]
    list_select_related = ["customer"]
    fields = ["source", "external_id", "customer", "shopify_customer_id", "email", "orders_requested", "status",
              "counts", "created_at", "ready_at", "download_link"]
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description="export")
    def download_link(self, obj):
        if obj.status != DataRequest.Status.READY or not obj.blob_key:
            return "-"
        return format_html('<a class="button" href="{}">Download (JSON)</a>',
                           reverse("admin:customers_datarequest_download", args=[obj.pk]))

    def get_urls(self):
        return [path("<int:data_request_id>/download/", self.admin_site.admin_view(self.download_view),
                     name="customers_datarequest_download"), *super().get_urls()]

    def download_view(self, request, data_request_id: int):
        if not request.user.has_perm("customers.view_datarequest"):
            raise PermissionDenied
        try:
            data_request, data = data_request_download(data_request_id=data_request_id, acting_user=request.user)
        except DataRequest.DoesNotExist:
            raise Http404(f"no data request {data_request_id}") from None
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:customers_datarequest_changelist"))
        response = HttpResponse(data, content_type="application/json")
        name = f"data-request-{re.sub(r'[^0-9A-Za-z_-]', '', data_request.external_id) or data_request.pk}.json"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "no-store"  # personal data: never kept by a browser or a proxy
        response["X-Content-Type-Options"] = "nosniff"
        return response


@admin.register(ErasureTombstone)
class ErasureTombstoneAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What erasures leave behind: keyed hashes only (no address or id can be read back from them)."""

    list_display = ["erased_at", "kind", "key"]
    list_filter = ["kind"]
    search_fields = ["=key"]
    show_full_result_count = False
