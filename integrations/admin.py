"""The integrations' checkpoints and snapshots, shown to Ops. They are written by the syncs themselves
(`shopify_backfill`, `zoho_sync`, `ingest_site` and their commands: `shopify_backfill --full` starts a
resource over), never by hand in the admin, which would move a cursor with no audit row."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied

from integrations.models import ShopifyCursor, SiteDocument, SiteSnapshot, ZohoSyncState
from integrations.site.documents import site_document_add, site_document_recrawl_request, site_document_remove
from omnichannel.admin import ReadOnlyAdminMixin
from omnichannel.errors import ApplicationError


@admin.register(ShopifyCursor)
class ShopifyCursorAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["resource", "last_updated_at", "last_delta_at", "last_run_at", "last_run_status", "records_total"]
    readonly_fields = ["last_updated_at", "last_delta_at", "last_run_at", "last_run_status", "records_total"]


@admin.register(ZohoSyncState)
class ZohoSyncStateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["folder_name", "folder_id", "last_received_at", "last_run_at"]


@admin.register(SiteSnapshot)
class SiteSnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["fetched_at", "url", "status", "http_status", "chunk_count"]
    list_filter = ["status"]
    search_fields = ["url", "=sha256"]
    show_full_result_count = False


class SiteDocumentForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https")

    class Meta:
        model = SiteDocument
        fields = ["url", "kind"]

    def validate_unique(self):
        # A removed URL may be added again (the service brings the row back); an active one is refused.
        url = self.cleaned_data.get("url")
        if url and SiteDocument.objects.filter(url=url).exclude(status=SiteDocument.Status.REMOVED).exists():
            self.add_error("url", "This URL is already a site document.")


@admin.register(SiteDocument)
class SiteDocumentAdmin(admin.ModelAdmin):
    """Pages and sitemaps Ops keep in the site index. Adding one queues its first crawl; "re-crawl now" and
    "remove" (its chunks leave the index) go through integrations/site/documents.py, never a plain save."""

    form = SiteDocumentForm
    list_display = ["url", "kind", "status", "last_crawled_at", "chunk_count", "parent", "short_error"]
    list_filter = ["status", "kind"]
    search_fields = ["url"]
    list_select_related = ["parent"]
    actions = ["recrawl_now", "remove_selected"]

    @admin.display(description="last error")
    def short_error(self, obj) -> str:
        return obj.last_error[:120]

    def has_change_permission(self, request, obj=None):
        return False  # a document is added, re-crawled or removed; nothing of it is edited by hand

    def has_delete_permission(self, request, obj=None):
        return False  # "remove" keeps the row (status removed) and its snapshots, and drops its chunks

    def has_recrawl_permission(self, request) -> bool:
        return request.user.has_perm("integrations.change_sitedocument")

    def has_remove_permission(self, request) -> bool:
        return request.user.has_perm("integrations.delete_sitedocument")

    def save_model(self, request, obj, form, change):
        try:
            document = site_document_add(url=obj.url, kind=obj.kind, acting_user=request.user)
        except ApplicationError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return
        obj.pk, obj.status = document.pk, document.status

    @admin.action(description="Re-crawl selected now", permissions=["recrawl"])
    def recrawl_now(self, request, queryset):
        if not self.has_recrawl_permission(request):
            raise PermissionDenied
        queued = 0
        for document_id in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                site_document_recrawl_request(document_id=document_id, acting_user=request.user)
            except ApplicationError as exc:
                self.message_user(request, exc.message, level=messages.WARNING)
                continue
            queued += 1
        self.message_user(request, f"{queued} document(s) queued for a crawl.", level=messages.SUCCESS)

    @admin.action(description="Remove selected (their chunks leave the site index)", permissions=["remove"])
    def remove_selected(self, request, queryset):
        if not self.has_remove_permission(request):
            raise PermissionDenied
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        for document_id in ids:
            site_document_remove(document_id=document_id, acting_user=request.user)
        self.message_user(request, f"{len(ids)} document(s) removed.", level=messages.SUCCESS)
