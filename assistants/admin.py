from django.contrib import admin

from assistants.models import ModelRun, StyleProfile
from omnichannel.admin import ReadOnlyAdminMixin


@admin.register(ModelRun)
class ModelRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "provider", "model_slug", "intent", "tokens_in", "tokens_out", "cost_usd",
                    "latency_ms", "status"]
    list_filter = ["provider", "model_slug", "status", "intent"]
    search_fields = ["=prompt_hash"]
    show_full_result_count = False


@admin.register(StyleProfile)
class StyleProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "owner_user", "is_brand_default", "last_applied_at"]
    list_select_related = ["owner_user"]
