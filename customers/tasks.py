"""Thin Celery tasks of the customers app."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

from customers.selectors import customer_summary_refresh
from omnichannel.cache import debounce

REFRESH_DEBOUNCE_SECONDS = 10
_DIRTY = "customer_summary:dirty"


@shared_task(bind=True, name="refresh_customer_summary", acks_late=True)
def refresh_customer_summary(self, force: bool = False) -> bool:
    """Refresh the read model at most once per window. A backfill page of 250 orders enqueues this
    250 times: the first refreshes, the others only mark it dirty, and one trailing refresh after
    the window picks up what changed meanwhile."""
    if not force and not debounce("refresh_customer_summary", REFRESH_DEBOUNCE_SECONDS):
        # The first late caller books one trailing refresh (with workers; inline there is no "later",
        # the next call after the window or the 15-minute schedule refreshes).
        if not self.request.is_eager and cache.add(_DIRTY, 1, timeout=REFRESH_DEBOUNCE_SECONDS * 6):
            self.apply_async(kwargs={"force": True}, countdown=REFRESH_DEBOUNCE_SECONDS)
        return False
    if force:
        cache.delete(_DIRTY)
    customer_summary_refresh()
    return True
