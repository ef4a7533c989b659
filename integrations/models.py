from __future__ import annotations

from django.conf import settings
from django.db import models


class ShopifyCursor(models.Model):
    """Incremental-sync checkpoint for one Shopify resource."""

    resource = models.CharField(max_length=30, unique=True)
    last_updated_at = models.DateTimeField(null=True, blank=True, help_text="Newest updated_at applied")
    page_info = models.TextField(blank=True, help_text="Where a running backfill resumes (opaque cursor)")
    last_delta_at = models.DateTimeField(null=True, blank=True, help_text="When the last change arrived")
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_run_status = models.CharField(max_length=20, blank=True)
    records_total = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "shopify_cursors"

    def __str__(self) -> str:
        return self.resource


class ZohoSyncState(models.Model):
    """Poll checkpoint for one Zoho folder (the fallback for missed webhooks)."""

    folder_id = models.CharField(max_length=64, unique=True)
    folder_name = models.CharField(max_length=200, blank=True)
    last_received_at = models.DateTimeField(null=True, blank=True)
    last_message_id = models.CharField(max_length=64, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "zoho_sync_state"

    def __str__(self) -> str:
        return self.folder_name or self.folder_id


class SiteSnapshot(models.Model):
    """One fetch of one page of the store's website; the HTML lives in the blob store."""

    class Status(models.TextChoices):
        OK = "ok", "OK"
        UNCHANGED = "unchanged", "Unchanged"
        FAILED = "failed", "Failed"

    url = models.URLField(max_length=2000)
    sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    http_status = models.PositiveIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=500, blank=True)
    blob_key = models.CharField(max_length=200, blank=True)
    chunk_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    fetched_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "site_snapshots"
        ordering = ["-fetched_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=["ok", "unchanged", "failed"]),
                                   name="site_snapshot_status_valid"),
        ]
        indexes = [models.Index(fields=["url", "-fetched_at"], name="site_snapshot_url_idx")]

    def __str__(self) -> str:
        return f"{self.url} @ {self.fetched_at:%Y-%m-%d}"


class SiteDocument(models.Model):
    """A page or a sitemap of the shop's site that Ops asked to keep indexed (added and removed through
    integrations/site/documents.py). Its current text is its `snapshot`; a sitemap's pages are documents of
    their own, with the sitemap as their `parent`."""

    class Kind(models.TextChoices):
        PAGE = "page", "Page"
        SITEMAP = "sitemap", "Sitemap"

    class Status(models.TextChoices):
        PENDING = "pending", "Not crawled yet"
        OK = "ok", "Indexed"
        UNCHANGED = "unchanged", "Unchanged"
        FAILED = "failed", "Failed"
        REMOVED = "removed", "Removed"

    url = models.URLField(max_length=2000, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PAGE)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="pages")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True, help_text="the server's Last-Modified, as sent")
    content_sha256 = models.CharField(max_length=64, blank=True)
    snapshot = models.ForeignKey(SiteSnapshot, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    chunk_count = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_crawled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "site_documents"
        ordering = ["url"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=["page", "sitemap"]), name="site_document_kind_valid"),
            models.CheckConstraint(condition=models.Q(status__in=["pending", "ok", "unchanged", "failed", "removed"]),
                                   name="site_document_status_valid"),
        ]

    def __str__(self) -> str:
        return self.url
