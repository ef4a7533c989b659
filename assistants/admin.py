from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path

from assistants.model_quality import model_quality_weekly_bars
from assistants.models import ModelRun, StyleProfile
from assistants.services_style import style_profile_delete, style_profile_save, style_tone_config_check
from omnichannel.admin import ReadOnlyAdminMixin, ServiceDeleteAdminMixin
from omnichannel.errors import ApplicationError


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


class StyleProfileForm(forms.ModelForm):
    class Meta:
        model = StyleProfile
        fields = ["name", "owner_user", "tone_config", "is_brand_default"]

    def clean_tone_config(self):
        try:
            return style_tone_config_check(self.cleaned_data.get("tone_config"))
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from None


@admin.register(StyleProfile)
class StyleProfileAdmin(ServiceDeleteAdminMixin, admin.ModelAdmin):
    """Saved and deleted through assistants/services_style.py (checked tone config, audit rows)."""

    form = StyleProfileForm
    list_display = ["name", "owner_user", "is_brand_default", "last_applied_at"]
    list_select_related = ["owner_user"]
    readonly_fields = ["last_applied_at", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        saved = style_profile_save(profile_id=obj.pk if change else None, name=obj.name, tone_config=obj.tone_config,
                                   owner_user_id=obj.owner_user_id, is_brand_default=obj.is_brand_default,
                                   acting_user=request.user)
        obj.pk, obj.created_at, obj.updated_at = saved.pk, saved.created_at, saved.updated_at

    def service_delete(self, pk: int, *, acting_user) -> None:
        style_profile_delete(profile_id=pk, acting_user=acting_user)
