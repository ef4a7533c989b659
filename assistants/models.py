from __future__ import annotations

from django.conf import settings
from django.db import models


class ModelRun(models.Model):
    """One call of a drafting provider: what went in, what came out, what it cost."""

    class Status(models.TextChoices):
        OK = "ok", "OK"
        FAILED = "failed", "Failed"

    conversation = models.ForeignKey("conversations.Conversation", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="model_runs")
    message = models.ForeignKey("conversations.Message", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="model_runs")
    provider = models.CharField(max_length=30)
    model_slug = models.CharField(max_length=100)
    prompt_hash = models.CharField(max_length=64)
    temperature = models.FloatField(default=0.0)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    intent = models.CharField(max_length=40, blank=True)
    sources = models.JSONField(default=list, blank=True, help_text="[{kind, id, score, ...}]")
    evaluation = models.JSONField(default=dict, blank=True)
    input_truncated = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OK)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "model_runs"
        ordering = ["-created_at"]
        permissions = [("view_model_quality", "Can see the model-quality report")]
        constraints = [
            models.CheckConstraint(condition=models.Q(cost_usd__gte=0), name="model_run_cost_non_negative"),
            models.CheckConstraint(condition=models.Q(status__in=["ok", "failed"]), name="model_run_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.model_slug} run {self.pk}"


class StyleProfile(models.Model):
    """Tone controls: per agent, or the brand's default when `owner_user` is empty."""

    name = models.CharField(max_length=100)
    owner_user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                                      related_name="style_profile")
    tone_config = models.JSONField(default=dict, blank=True,
                                   help_text='{"greeting": "Hi {first_name},", "sign_off": "...", "tone": "warm", '
                                             '"banned_phrases": [...]}')
    is_brand_default = models.BooleanField(default=False)
    last_applied_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "style_profiles"
        constraints = [
            models.UniqueConstraint(fields=["is_brand_default"], condition=models.Q(is_brand_default=True),
                                    name="style_profile_one_brand_default"),
        ]

    def __str__(self) -> str:
        return self.name
