from django.contrib import admin

from integrations.models import ShopifyCursor, SiteSnapshot, ZohoSyncState


@admin.register(ShopifyCursor)
class ShopifyCursorAdmin(admin.ModelAdmin):
    list_display = ["resource", "last_updated_at", "last_delta_at", "last_run_at", "last_run_status", "records_total"]
    readonly_fields = ["last_updated_at", "last_delta_at", "last_run_at", "last_run_status", "records_total"]


@admin.register(ZohoSyncState)
class ZohoSyncStateAdmin(admin.ModelAdmin):
    list_display = ["folder_name", "folder_id", "last_received_at", "last_run_at"]


@admin.register(SiteSnapshot)
class SiteSnapshotAdmin(admin.ModelAdmin):
    list_display = ["fetched_at", "url", "status", "http_status", "chunk_count"]
    list_filter = ["status"]
    search_fields = ["url", "=sha256"]
    show_full_result_count = False
