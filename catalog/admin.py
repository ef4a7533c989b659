from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import path

from catalog.demand import week_bounds
from catalog.models import InventoryItem, ProductRequest
from catalog.selectors import DemandTrend, demand_report_key, demand_report_weeks, demand_weekly_trend
from catalog.services import (
    normalized_request,
    product_request_create,
    product_request_delete,
    product_request_edit,
)
from omnichannel.admin import ReadOnlyAdminMixin, ServiceDeleteAdminMixin
from omnichannel.blobstore import blob_get
from omnichannel.errors import InvalidPayload


@admin.register(InventoryItem)
class InventoryItemAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Shopify's stock, mirrored (webhooks and the backfill): changed in Shopify, never here, where a hand
    edit would be overwritten by the next update and drafts would quote it meanwhile."""

    list_display = ["sku", "title", "quantity_available", "lead_time_days", "price_cents", "updated_at"]
    search_fields = ["sku", "title", "=shopify_id"]
    readonly_fields = ["shopify_id", "source_updated_at", "created_at", "updated_at"]


# --- the weekly demand chart: inline SVG drawn on the server (no JavaScript, no CDN) ------------------

LABEL_WIDTH, BAR_WIDTH, BAR_GAP, LANE_HEIGHT, LANE_GAP, AXIS_HEIGHT, TOP_PAD = 190, 34, 12, 46, 14, 30, 18


@dataclass(frozen=True)
class ChartBar:
    x: int
    y: float
    height: float
    count: int
    week: str
    is_current: bool
    text_x: float
    text_y: float


@dataclass(frozen=True)
class ChartLane:
    request: str
    label_y: float
    baseline_y: float
    bars: list[ChartBar]


def demand_chart_layout(trend: DemandTrend) -> dict:
    """Small multiples: one lane per request, one bar per week, a scale shared by every lane so
    lanes compare honestly. Coordinates are computed here so the template only places shapes."""
    peak = max(trend.max_count, 1)
    lanes = []
    for i, series in enumerate(trend.series):
        top = TOP_PAD + i * (LANE_HEIGHT + LANE_GAP)
        baseline = top + LANE_HEIGHT
        bars = []
        for w, count in enumerate(series.counts):
            height = round(LANE_HEIGHT * count / peak, 1) if count else 0
            bars.append(ChartBar(x=LABEL_WIDTH + w * (BAR_WIDTH + BAR_GAP), y=baseline - height, height=height,
                                 count=count, week=trend.weeks[w], is_current=w == len(series.counts) - 1,
                                 text_x=LABEL_WIDTH + w * (BAR_WIDTH + BAR_GAP) + BAR_WIDTH / 2,
                                 text_y=baseline - height - 3))
        lanes.append(ChartLane(request=series.normalized, label_y=top + LANE_HEIGHT / 2 + 4, baseline_y=baseline,
                               bars=bars))
    plot_bottom = TOP_PAD + len(lanes) * (LANE_HEIGHT + LANE_GAP)
    weeks = [{"x": LABEL_WIDTH + w * (BAR_WIDTH + BAR_GAP) + BAR_WIDTH / 2, "label": label.split("-")[1]}
             for w, label in enumerate(trend.weeks)]
    return {"lanes": lanes, "weeks": weeks, "width": LABEL_WIDTH + len(trend.weeks) * (BAR_WIDTH + BAR_GAP),
            "height": plot_bottom + AXIS_HEIGHT, "axis_y": plot_bottom + 14, "bar_width": BAR_WIDTH,
            "baseline_x2": LABEL_WIDTH + len(trend.weeks) * (BAR_WIDTH + BAR_GAP) - BAR_GAP}


class ProductRequestForm(forms.ModelForm):
    normalized = forms.CharField(max_length=200, required=False,
                                 help_text="How requests are grouped; left empty, it is read from the description")

    class Meta:
        model = ProductRequest
        fields = ["description", "normalized", "count", "requested_at", "customer", "conversation"]

    def clean(self):
        # Filled in before the model's checks run, so a duplicate (one request per conversation) is a form error.
        cleaned = super().clean()
        if not cleaned.get("normalized") and cleaned.get("description"):
            cleaned["normalized"] = normalized_request(cleaned["description"])
            self.instance.normalized = cleaned["normalized"]
        return cleaned


@admin.register(ProductRequest)
class ProductRequestAdmin(ServiceDeleteAdminMixin, admin.ModelAdmin):
    """Requests added, corrected or deleted by hand go through catalog/services.py (audit rows); the trend
    score is computed by `mine_demand`, never typed."""

    form = ProductRequestForm
    list_display = ["normalized", "count", "trend_score", "customer", "conversation", "requested_at"]
    search_fields = ["normalized", "description"]
    list_select_related = ["customer", "conversation"]
    raw_id_fields = ["customer", "conversation"]
    readonly_fields = ["trend_score", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        fields = {"description": obj.description, "count": obj.count, "requested_at": obj.requested_at,
                  "customer_id": obj.customer_id, "conversation_id": obj.conversation_id}
        if change:
            saved = product_request_edit(request_id=obj.pk, acting_user=request.user, normalized=obj.normalized,
                                         **fields)
        else:
            saved = product_request_create(normalized=obj.normalized, acting_user=request.user, **fields)
        obj.pk, obj.normalized, obj.created_at = saved.pk, saved.normalized, saved.created_at

    def service_delete(self, pk: int, *, acting_user) -> None:
        product_request_delete(request_id=pk, acting_user=acting_user)
    change_list_template = "admin/catalog/productrequest/change_list.html"  # adds the "Weekly trend" link

    def get_urls(self):
        return [path("trend/", self.admin_site.admin_view(self.trend_view), name="catalog_productrequest_trend"),
                path("reports/<str:week>.csv", self.admin_site.admin_view(self.report_view),
                     name="catalog_productrequest_report"), *super().get_urls()]

    def report_view(self, request, week: str):
        """A weekly demand report as `mine_demand` wrote it (CSV from the blob store): descriptions and counts."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            week_bounds(week)  # an ISO week, nothing else reaches the blob store's keys
            data = blob_get(demand_report_key(week))
        except (InvalidPayload, FileNotFoundError):
            raise Http404(f"no demand report for week {week}") from None
        response = HttpResponse(data, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="demand-{week}.csv"'
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def trend_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            weeks = int(request.GET.get("weeks", "8"))
            top = int(request.GET.get("top", "8"))
        except ValueError:
            return HttpResponseBadRequest("weeks and top must be whole numbers, e.g. ?weeks=8&top=8")
        if not (5 <= weeks <= 26 and 1 <= top <= 20):
            return HttpResponseBadRequest("weeks must be between 5 and 26 and top between 1 and 20")
        trend = demand_weekly_trend(weeks=weeks, top=top)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "trend": trend,
                   "chart": demand_chart_layout(trend), "title": f"Product requests: the last {weeks} weeks",
                   "weeks": weeks, "reports": demand_report_weeks()}
        return TemplateResponse(request, "admin/catalog/productrequest/trend.html", context)
