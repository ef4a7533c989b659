"""Celery tasks of this provider (names are contracts: see ARCHITECTURE.md)."""

from __future__ import annotations

import requests
from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.db import IntegrityError

from integrations.shopify.client import ShopifyError
from integrations.shopify.events import process_shopify_event
from integrations.webhooks_common import TRANSIENT_DB_ERRORS, db_error_is_transient


@shared_task(bind=True, name="process_shopify_event_task", acks_late=True, max_retries=5)
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


@shared_task(name="shopify_backfill", acks_late=True)
def shopify_backfill(resource: str = "all", full: bool = False) -> dict:
    from integrations.shopify.backfill import backfill_run

    return backfill_run(resources=None if resource == "all" else [resource], full=full)


@shared_task(name="rebuild_faq_page", acks_late=True)
def rebuild_faq_page() -> str:
    from integrations.shopify.faq_page import faq_page_publish

    return faq_page_publish().status
