"""Thin Celery tasks of the customers app."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

from customers.selectors import customer_summary_refresh
from customers.services_data_requests import data_exports_expire, data_request_export
from customers.services_erasure import customers_erase_shop
from omnichannel.cache import debounce
from omnichannel.jobs import enqueue
from omnichannel.task_names import TaskName
from omnichannel.task_policy import task_run_later

REFRESH_DEBOUNCE_SECONDS = 10
_DIRTY = "customer_summary:dirty"


@shared_task(bind=True, name=TaskName.REFRESH_CUSTOMER_SUMMARY, acks_late=True)
def refresh_customer_summary(self, force: bool = False) -> bool:
    """Refresh the read model at most once per window. A backfill page of 250 orders enqueues this
    250 times: the first refreshes, the others only mark it dirty, and one trailing refresh after
    the window picks up what changed meanwhile."""
    if not force and not debounce(TaskName.REFRESH_CUSTOMER_SUMMARY, REFRESH_DEBOUNCE_SECONDS):
        # The first late caller books one trailing refresh (with workers; inline there is no "later",
        # the next call after the window or the 15-minute schedule refreshes).
        if cache.add(_DIRTY, 1, timeout=REFRESH_DEBOUNCE_SECONDS * 6):
            task_run_later(self, countdown=REFRESH_DEBOUNCE_SECONDS, force=True)
        return False
    if force:
        cache.delete(_DIRTY)
    customer_summary_refresh()
    return True


@shared_task(name=TaskName.EXPORT_DATA_REQUEST, acks_late=True)
def export_data_request(data_request_id: int) -> str:
    return data_request_export(data_request_id=data_request_id)


@shared_task(name=TaskName.EXPIRE_DATA_EXPORTS, acks_late=True)
def expire_data_exports() -> int:
    """Beat, nightly: data-request exports are deleted DATA_EXPORT_KEEP_DAYS after they were written."""
    return data_exports_expire()


@shared_task(name=TaskName.ERASE_SHOP_CUSTOMERS, acks_late=True)
def erase_shop_customers(counts: dict | None = None) -> dict:
    """Shopify's shop/redact: the shop's customers, SHOP_ERASURE_BATCH per run, one transaction each; the
    task queues itself again until none is left (a big shop never runs into the task's time limit)."""
    counts, done = customers_erase_shop(counts=counts)
    if not done:
        enqueue(TaskName.ERASE_SHOP_CUSTOMERS, counts=counts)
    return counts
