"""Writing audit events. Call inside the service's transaction so the row commits with the change."""

from __future__ import annotations

from typing import Any

from django.db import models

from omnichannel import correlation
from omnichannel.models import AuditLog


def actor_for(user=None, *, integration: str | None = None) -> str:
    if user is not None and getattr(user, "pk", None):
        return f"user:{user.pk}"
    if integration:
        return f"integration:{integration}"
    return "system"


def audit_log_write(
    *,
    event_type: str,
    payload: dict[str, Any] | None = None,
    acting_user=None,
    integration: str | None = None,
    obj: models.Model | None = None,
) -> AuditLog:
    return AuditLog.objects.create(
        event_type=event_type,
        payload=payload or {},
        actor=actor_for(acting_user, integration=integration),
        actor_user=acting_user if acting_user is not None and getattr(acting_user, "pk", None) else None,
        correlation_id=correlation.ensure(),
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
    )
