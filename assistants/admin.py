from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path

from assistants.model_quality import model_quality_weekly_bars
from assistants.models import ModelRun, StyleProfile
from omnichannel.admin import ReadOnlyAdminMixin


@admin.register(ModelRun)
class ModelRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "provider", "model_slug", "intent", "tokens_in", "tokens_out", "cost_usd",
                    "latency_ms", "status"]
    list_filter = ["provider", "model_slug", "status", "intent"]
    search_fields = ["=prompt_hash"]
    show_full_result_count = False
    change_list_template = "admin/assistants/modelrun/change_list.html"  # links the quality report for Ops

    def get_urls(self):
        return [path("quality/", self.admin_site.admin_view(self.quality_view), name="assistants_model_quality"),
                *super().get_urls()]

    def quality_view(self, request):
        """Per week and confidence bucket: the share of decided drafts approved as is, edited, rejected."""
        if not request.user.has_perm("assistants.view_model_quality"):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": "Draft quality by week",
                   "bars": model_quality_weekly_bars(weeks=8)}
        return TemplateResponse(request, "admin/assistants/modelrun/quality.html", context)


@admin.register(StyleProfile)
class StyleProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "owner_user", "is_brand_default", "last_applied_at"]
    list_select_related = ["owner_user"]
