"""Celery tasks of this provider (names are contracts: see ARCHITECTURE.md)."""

from __future__ import annotations

from contextlib import ExitStack

from celery import shared_task
from django.db import IntegrityError

from integrations.shopify.backfill import RESOURCES, backfill_run
from integrations.shopify.events import SHOPIFY_DELIVERIES, process_shopify_event
from integrations.shopify.faq_page import faq_page_publish
from integrations.webhooks_common import db_error_is_transient
from omnichannel.single_flight import single_flight
from omnichannel.task_names import TaskName
from omnichannel.task_policy import RetryingTask, error_is_transient


def _event_error_is_transient(exc: BaseException) -> bool:
    """A race's unique violation is worth a retry; any other IntegrityError is kept as failed, for replay."""
    return db_error_is_transient(exc) if isinstance(exc, IntegrityError) else error_is_transient(exc)


@shared_task(base=RetryingTask, bind=True, name=TaskName.PROCESS_SHOPIFY_EVENT,
             autoretry_for=(*SHOPIFY_DELIVERIES.retried, IntegrityError),
             error_is_transient=staticmethod(_event_error_is_transient))
def process_shopify_event_task(self, delivery_id: int, replay: bool = False) -> str:
    # Transient errors propagate (the delivery already recorded as failed) and are retried by the task
    # policy (omnichannel/task_policy.py); a retry may claim the failed delivery again.
    return process_shopify_event(delivery_id, replay=replay or self.request.retries > 0)


@shared_task(name=TaskName.SHOPIFY_BACKFILL, acks_late=True)
def shopify_backfill(resource: str = "all", full: bool = False) -> dict:
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
    # "Publish N entries" queues N rebuilds: one at a time (two first publishes would create two
    # pages), each after the one before, so none renders the entries as they were before its change.
    with single_flight(TaskName.REBUILD_FAQ_PAGE, wait=True):
        return faq_page_publish().status
