from __future__ import annotations

from dataclasses import dataclass

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import path

from catalog.models import InventoryItem, ProductRequest
from catalog.selectors import DemandTrend, demand_weekly_trend


@admin.register(InventoryItem)
class InventoryItemAdmin(admin.ModelAdmin):
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


@admin.register(ProductRequest)
class ProductRequestAdmin(admin.ModelAdmin):
    list_display = ["normalized", "count", "trend_score", "customer", "conversation", "requested_at"]
    search_fields = ["normalized", "description"]
    list_select_related = ["customer", "conversation"]
    raw_id_fields = ["customer", "conversation"]
    change_list_template = "admin/catalog/productrequest/change_list.html"  # adds the "Weekly trend" link

    def get_urls(self):
        return [path("trend/", self.admin_site.admin_view(self.trend_view), name="catalog_productrequest_trend"),
                *super().get_urls()]

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
                   "weeks": weeks}
        return TemplateResponse(request, "admin/catalog/productrequest/trend.html", context)
