from django.contrib import admin, messages

from omnichannel.dead_letters import dead_letter_requeue
from omnichannel.errors import ApplicationError
from omnichannel.log_redaction import signature_header
from omnichannel.models import AuditLog, DeadLetter, WebhookDelivery

# "View site" leads to the one public page we serve (the shop's FAQ), not to a 404 at "/".
admin.site.site_url = "/faq/"
admin.site.site_header = "Support assistant"
admin.site.site_title = "Support assistant"
admin.site.index_title = "Home"


class ReadOnlyAdminMixin:
    """History and raw inputs are looked at, never edited, in the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceDeleteAdminMixin:
    """Deleting, one row or many through the list's bulk action, goes through the owning app's service
    (its audit row and side effects), a row at a time in id order: `service_delete`."""

    def service_delete(self, pk: int, *, acting_user) -> None:
        raise NotImplementedError

    def delete_model(self, request, obj):
        self.service_delete(obj.pk, acting_user=request.user)

    def delete_queryset(self, request, queryset):
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            self.service_delete(pk, acting_user=request.user)


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
    readonly_fields = ["headers_shown", "body_text"]
    exclude = ["body", "headers"]
    show_full_result_count = False

    @admin.display(description="headers")
    def headers_shown(self, obj):
        # Deliveries stored before signatures were dropped still hold them: never shown beside the body.
        return {name: value for name, value in (obj.headers or {}).items() if not signature_header(name)}

    @admin.display(description="last error")
    def short_error(self, obj):
        return (obj.last_error or "")[:80]


class DeadLetterStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("resolved", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "task_name", "exception_type", "short_message", "retries", "correlation_id",
                    "resolved_at", "resolved_by"]
    list_filter = [DeadLetterStateFilter, "task_name"]
    search_fields = ["=task_id", "=correlation_id", "task_name"]
    list_select_related = ["resolved_by"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["requeue"]

    @admin.display(description="message")
    def short_message(self, obj):
        return (obj.exception_message or "")[:80]

    def has_requeue_permission(self, request):
        return request.user.has_perm("omnichannel.requeue_deadletter")

    @admin.action(description="Requeue the selected tasks (and mark them resolved)", permissions=["requeue"])
    def requeue(self, request, queryset):
        done, refused = 0, []
        for dead_letter in queryset.filter(resolved_at__isnull=True).order_by("pk"):
            try:
                dead_letter_requeue(dead_letter_id=dead_letter.pk, acting_user=request.user)
                done += 1
            except ApplicationError as exc:
                refused.append(exc.message)
        if done:
            self.message_user(request, f"Requeued {done} task(s).", messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.ERROR)
        if not done and not refused:
            self.message_user(request, "Nothing to requeue: the selected tasks are already resolved.", messages.WARNING)
