"""Soft claims on drafts: an agent who opens a draft holds it for a few minutes, so a team working
the queue does not review the same email twice. A claim never blocks a decision (the approval
services decide races); it only steers `n` and "next after a decision" past drafts others hold."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from conversations.models import Draft


def _free_for(user, now):
    return Q(claimed_until__isnull=True) | Q(claimed_until__lte=now) | Q(claimed_by=user)


def draft_claim(*, draft_id: int, user) -> bool:
    """Hold a pending draft for `user` for REVIEW_CLAIM_SECONDS (renewed on every visit). False when
    another agent holds it: one conditional UPDATE, so two agents opening it at once get one claim."""
    now = timezone.now()
    return Draft.objects.filter(_free_for(user, now), pk=draft_id, status=Draft.Status.PENDING).update(
        claimed_by=user, claimed_until=now + timedelta(seconds=settings.REVIEW_CLAIM_SECONDS)) == 1


def pending_queue():
    """Pending drafts in the order the team works them: the customer who has waited longest first."""
    return Draft.objects.filter(status=Draft.Status.PENDING).order_by("waiting_since", "id")


def draft_next_for(*, user, exclude_id: int | None = None) -> int | None:
    """The next pending draft `user` should review: the longest wait that no one else holds."""
    candidates = pending_queue().filter(_free_for(user, timezone.now()))
    if exclude_id is not None:
        candidates = candidates.exclude(pk=exclude_id)
    return candidates.values_list("pk", flat=True).first()


def draft_claim_next(*, user, exclude_id: int | None = None, attempts: int = 5) -> int | None:
    """Claim and return the next draft for `user` (after a decision): two agents deciding at the same
    moment are sent to two different drafts."""
    for _ in range(attempts):
        draft_id = draft_next_for(user=user, exclude_id=exclude_id)
        if draft_id is None or draft_claim(draft_id=draft_id, user=user):
            return draft_id
    return draft_next_for(user=user, exclude_id=exclude_id)
