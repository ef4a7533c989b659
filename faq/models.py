from __future__ import annotations

from django.conf import settings
from django.db import models


class FaqEntry(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    question = models.CharField(max_length=500)
    answer = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    source_intent = models.CharField(max_length=40, blank=True, db_index=True)
    position = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "faq_entries"
        verbose_name_plural = "FAQ entries"
        ordering = ["position", "id"]
        permissions = [("publish_faqentry", "Can publish FAQ entries to the shop")]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=["draft", "published", "archived"]),
                                   name="faq_status_valid"),
            models.CheckConstraint(condition=~models.Q(status="published") | models.Q(published_at__isnull=False),
                                   name="faq_published_has_date"),
        ]

    def __str__(self) -> str:
        return self.question


class FaqPublication(models.Model):
    """What was last pushed to the shop's FAQ page, so an unchanged page is not pushed again."""

    shopify_page_id = models.CharField(max_length=32, blank=True)
    content_sha256 = models.CharField(max_length=64)
    blob_key = models.CharField(max_length=200, blank=True)
    entries_count = models.PositiveIntegerField(default=0)
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "faq_publications"
        ordering = ["-published_at"]

    def __str__(self) -> str:
        return f"FAQ page {self.shopify_page_id or '(not pushed)'} at {self.published_at:%Y-%m-%d %H:%M}"


class Correction(models.Model):
    """A curated fact that overrides what the assistant would otherwise say (mirrors corrections.yaml)."""

    key = models.SlugField(max_length=100, unique=True, help_text="Stable id used in corrections.yaml")
    pattern = models.CharField(max_length=500, help_text="Words or a phrase in the customer's message")
    answer = models.TextField()
    sources = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    last_verified = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "corrections"
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key
