"""Writes of accounts: API tokens made (shown once) and revoked, TOTP devices for two-factor login."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken
from omnichannel.audit import audit_log_write


def api_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user, name: str = "", ttl_days: int | None = None, acting_user=None) -> tuple[ApiToken, str]:
    """A new token for `user`: (the stored row, the token). The token exists only in the return value."""
    token = secrets.token_urlsafe(32)
    days = ttl_days if ttl_days is not None else settings.API_TOKEN_TTL_DAYS
    row = ApiToken(user=user, name=name[:100], prefix=token[:8], digest=api_token_digest(token),
                   expires_at=timezone.now() + timedelta(days=days))
    row.full_clean()
    row.save()
    audit_log_write(event_type="api_token.created", acting_user=acting_user, obj=row,
                    payload={"user_id": user.pk, "name": row.name, "prefix": row.prefix,
                             "expires_at": row.expires_at.isoformat()})
    return row, token


@transaction.atomic
def api_token_revoke(*, token_id: int, acting_user=None) -> ApiToken:
    row = ApiToken.objects.select_for_update().get(pk=token_id)
    if row.revoked_at is None:
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        audit_log_write(event_type="api_token.revoked", acting_user=acting_user, obj=row,
                        payload={"user_id": row.user_id, "prefix": row.prefix})
    return row
