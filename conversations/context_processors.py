"""The undo offer that follows an agent from the approval to the next page they land on."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

UNDO_SESSION_KEY = "undo_offer"


def undo_offer_remember(request, *, draft_id: int, until: datetime) -> None:
    request.session[UNDO_SESSION_KEY] = {"draft_id": draft_id, "until": until.isoformat()}


def undo_offer(request) -> dict:
    """`undo_offer` ({draft_id, seconds_left}) while the last approval of this session can be undone."""
    session = getattr(request, "session", None)
    offer = session.get(UNDO_SESSION_KEY) if session is not None else None
    if not offer:
        return {}
    left = (datetime.fromisoformat(offer["until"]) - timezone.now()).total_seconds()
    if left <= 0:
        session.pop(UNDO_SESSION_KEY, None)
        return {}
    return {"undo_offer": {"draft_id": offer["draft_id"], "seconds_left": int(left)}}
