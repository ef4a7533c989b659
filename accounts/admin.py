from django.contrib import admin, messages

from accounts.models import ApiToken
from accounts.services import api_token_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made with `manage.py drf_create_token` (shown once); here they are listed and revoked.
    The digest is not shown: it identifies a token to nobody but the database."""

    list_display = ["prefix", "user", "name", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_select_related = ["user"]
    list_filter = ["revoked_at"]
    search_fields = ["=prefix", "user__username", "name"]
    fields = ["prefix", "user", "name", "created_at", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    # A token is revoked (api_token_revoke: an audit row, and its row kept for the record), never deleted:
    # the delete permission only gates the revoke action on the list; no delete view, no delete_selected.
    def has_delete_permission(self, request, obj=None):
        return obj is None and super().has_delete_permission(request)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Revoke the selected tokens", permissions=["delete"])
    def revoke(self, request, queryset):
        for token_id in queryset.filter(revoked_at__isnull=True).order_by("pk").values_list("pk", flat=True):
            api_token_revoke(token_id=token_id, acting_user=request.user)
        self.message_user(request, "The selected tokens no longer work.", messages.SUCCESS)
