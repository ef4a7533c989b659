from django.contrib import admin

from faq.models import Correction, FaqEntry, FaqPublication


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin):
    list_display = ["question", "status", "source_intent", "published_at", "updated_at"]
    list_filter = ["status", "source_intent"]
    search_fields = ["question", "answer"]
    readonly_fields = ["published_at", "created_at", "updated_at"]


@admin.register(Correction)
class CorrectionAdmin(admin.ModelAdmin):
    list_display = ["key", "pattern", "is_active", "last_verified", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["key", "pattern", "answer"]


@admin.register(FaqPublication)
class FaqPublicationAdmin(admin.ModelAdmin):
    list_display = ["published_at", "shopify_page_id", "entries_count", "content_sha256"]
    readonly_fields = ["published_at", "shopify_page_id", "entries_count", "content_sha256", "blob_key"]
