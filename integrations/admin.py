"""The integrations' checkpoints and snapshots, shown to Ops. They are written by the syncs themselves
(`shopify_backfill`, `zoho_sync`, `ingest_site` and their commands: `shopify_backfill --full` starts a
resource over), never by hand in the admin, which would move a cursor with no audit row."""

from django.contrib import admin

from integrations.models import ShopifyCursor, SiteSnapshot, ZohoSyncState
from omnichannel.admin import ReadOnlyAdminMixin


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
