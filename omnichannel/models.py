from __future__ import annotations

from django.conf import settings
from django.db import models

from omnichannel.append_only import AppendOnlyModel


class AuditLog(AppendOnlyModel):
    """Catch-all, append-only trail: which flow did what, with which facts, for whom."""

    event_type = models.CharField(max_length=100, db_index=True)
    payload = models.JSONField(default=dict, blank=True)
    actor = models.CharField(max_length=150, help_text="user:<id>, integration:<name> or system")
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    correlation_id = models.CharField(max_length=64, db_index=True, blank=True)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "audit_log"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.event_type} by {self.actor} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class WebhookDelivery(models.Model):
    """The raw inbox: every webhook and poll payload, stored before any processing."""

    class Source(models.TextChoices):
        ZOHO = "zoho", "Zoho Mail"
        SHOPIFY = "shopify", "Shopify"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        QUEUED = "queued", "Queued for processing"
        PROCESSING = "processing", "Processing"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"
        IGNORED = "ignored", "Ignored (unknown topic)"

    source = models.CharField(max_length=20, choices=Source.choices)
    topic = models.CharField(max_length=100, blank=True)
    external_id = models.CharField(max_length=200, help_text="The sender's delivery or message id (dedupe key)")
    headers = models.JSONField(default=dict, blank=True)
    body = models.BinaryField(help_text="The raw bytes as received")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    is_erased = models.BooleanField(default=False)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    lease_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="While processing: until when its worker is known alive (renewed by heartbeat)")

    class Meta:
        db_table = "webhook_deliveries"
        verbose_name_plural = "webhook deliveries"
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="webhook_delivery_unique_external_id"),
            models.CheckConstraint(
                condition=models.Q(status__in=["received", "queued", "processing", "processed", "failed", "ignored"]),
                name="webhook_delivery_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="webhook_status_idx")]

    def __str__(self) -> str:
        return f"{self.source}:{self.topic or '-'}:{self.external_id}"

    @property
    def body_text(self) -> str:
        return bytes(self.body).decode("utf-8", errors="replace")


class DeadLetter(models.Model):
    """A Celery task that failed for good (after its last retry): kept so Ops can see it and requeue it.

    Written by the `task_failure` signal (omnichannel/tasks.py), which Celery sends only once a task
    stops retrying; a retry sends `task_retry` instead.
    """

    task_name = models.CharField(max_length=200, db_index=True)
    task_id = models.CharField(max_length=255, blank=True)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    retries = models.PositiveIntegerField(default=0, help_text="Retries done before the last failure")
    exception_type = models.CharField(max_length=200)
    exception_message = models.TextField(blank=True)
    traceback = models.TextField(blank=True, help_text="The end of the traceback (where it failed)")
    correlation_id = models.CharField(max_length=64, db_index=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "dead_letters"
        ordering = ["-created_at", "-id"]
        permissions = [("requeue_deadletter", "Can requeue a dead-lettered task")]
        indexes = [models.Index(fields=["resolved_at", "created_at"], name="dead_letter_open_idx")]

    def __str__(self) -> str:
        return f"{self.task_name} {self.exception_type} at {self.created_at:%Y-%m-%d %H:%M:%S}"
