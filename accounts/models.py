"""API tokens, kept as digests only: the database never holds a token that works."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A token for `Authorization: Token <token>`. Only its SHA-256 digest is stored (a token is 256 random
    bits, so a plain digest cannot be searched backwards); the token itself is shown once, when it is made.
    It works until `expires_at` or until revoked."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, help_text="What or who uses it (a script, an integration)")
    prefix = models.CharField(max_length=8, help_text="The token's first characters, to tell tokens apart")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token, hex")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "api_tokens"
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def key(self) -> str:
        """What identifies the token to the rate limiter (api_common.TokenRateThrottle): its digest, never
        the token, which we do not have."""
        return self.digest
