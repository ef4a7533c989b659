"""Celery tasks of this provider (names are contracts: see ARCHITECTURE.md)."""

from __future__ import annotations

from contextlib import ExitStack

import requests
from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.db import IntegrityError

from integrations.shopify.client import ShopifyError
from integrations.shopify.events import process_shopify_event
from integrations.webhooks_common import TRANSIENT_DB_ERRORS, db_error_is_transient
from omnichannel.single_flight import single_flight
from omnichannel.task_names import TaskName


@shared_task(bind=True, name=TaskName.PROCESS_SHOPIFY_EVENT, acks_late=True, max_retries=5)
def process_shopify_event_task(self, delivery_id: int, replay: bool = False) -> str:
    try:
        return process_shopify_event(delivery_id, replay=replay or self.request.retries > 0)
    except (ShopifyError, requests.RequestException, *TRANSIENT_DB_ERRORS, IntegrityError) as exc:
        if isinstance(exc, IntegrityError) and not db_error_is_transient(exc):
            raise  # not a race (process_shopify_event keeps those as failed, for replay): no retry
        if self.request.is_eager:
            return "failed"  # inline mode: the delivery stays failed for replay_webhooks
        # Celery's own backoff with full jitter: workers retrying after one outage do not come back in step.
        raise self.retry(countdown=get_exponential_backoff_interval(
            factor=30, retries=self.request.retries, maximum=600, full_jitter=True)) from exc


@shared_task(name=TaskName.SHOPIFY_BACKFILL, acks_late=True)
def shopify_backfill(resource: str = "all", full: bool = False) -> dict:
    from integrations.shopify.backfill import RESOURCES, backfill_run

    # One run per resource at a time: two would page the same cursor and fight over it.
    wanted = list(RESOURCES) if resource == "all" else [resource]
    with ExitStack() as stack:
        held = [r for r in wanted if stack.enter_context(single_flight(f"shopify_backfill:{r}"))]
        busy = sorted(set(wanted) - set(held))
        if not held:
            return {"skipped": f"a backfill of {', '.join(busy)} is running"}
        outcome = backfill_run(resources=held, full=full)
    return {**outcome, "skipped_busy": busy} if busy and isinstance(outcome, dict) else outcome


@shared_task(name=TaskName.REBUILD_FAQ_PAGE, acks_late=True)
def rebuild_faq_page() -> str:
    from integrations.shopify.faq_page import faq_page_publish

    # "Publish N entries" queues N rebuilds: one at a time (two first publishes would create two
    # pages), each after the one before, so none renders the entries as they were before its change.
    with single_flight(TaskName.REBUILD_FAQ_PAGE, wait=True):
        return faq_page_publish().status
