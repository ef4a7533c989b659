from django.contrib import admin

from omnichannel.models import AuditLog, WebhookDelivery


class ReadOnlyAdminMixin:
    """History and raw inputs are looked at, never edited, in the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "event_type", "actor", "object_type", "object_id", "correlation_id"]
    list_filter = ["event_type", "object_type"]
    search_fields = ["=correlation_id", "=object_id", "event_type"]
    list_select_related = ["actor_user"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["received_at", "source", "topic", "external_id", "status", "attempts", "short_error"]
    list_filter = ["source", "status", "topic"]
    search_fields = ["=external_id", "topic", "=correlation_id"]
    readonly_fields = ["body_text"]
    exclude = ["body"]
    show_full_result_count = False

    @admin.display(description="last error")
    def short_error(self, obj):
        return (obj.last_error or "")[:80]
