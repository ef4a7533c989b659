"""One pipeline for a stored delivery of either source: claim → parse → handle → classify the error → finish.

Zoho (integrations/zoho/ingest.py) and Shopify (integrations/shopify/events.py) each describe
themselves with a `DeliverySource`: how to parse the stored bytes (once), how to apply the parsed
payload, which errors mean what, and what to do once the delivery is marked processed. The rest is
here, the same for both:

- The claim (`webhook_delivery_claim`, a conditional update) takes a delivery that is `received` or
  `queued`, one still `processing` only when its lease has run out (its worker was killed: the lease
  was not renewed), and a `failed` one only on a replay or a task's retry. A delivery whose lease is
  live is skipped ("skipped"): the worker on it renews the lease from a heartbeat while it works.
- The work runs under the correlation id of the request that brought the delivery (kept on the row
  at intake), whoever queued it, so its messages, drafts and audit rows are found by that id.
- Whatever goes wrong is recorded on the delivery (failed, with the reason) so it can be replayed.
  A payload we cannot read answers "invalid", a provider's permanent refusal (a 4xx) "failed"; a
  transient error (the provider's 5xx or 429, the network, a lost database connection or a deadlock)
  is raised for the caller (the task's retry policy, the poll) to try again; any other error is a
  bug or a value the database refuses: logged, "failed", not retried, unless the source's
  `transient_unexpected` says that this one is worth another try.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from integrations.webhooks_common import TRANSIENT_DB_ERRORS, delivery_failed
from omnichannel import correlation
from omnichannel.models import WebhookDelivery
from omnichannel.webhook_deliveries import webhook_delivery_claim, webhook_delivery_finish, webhook_delivery_lease_kept

logger = logging.getLogger(__name__)


class DeliveryIgnored(Exception):  # noqa: N818 - an outcome, not a failure
    """Raised by a source's `parse` for a delivery it does not handle (an unknown topic): the delivery
    is marked `ignored`, stored and acknowledged, not failed."""


def _never(exc: BaseException) -> bool:
    return False


@dataclass(frozen=True)
class DeliverySource:
    """What one source brings to the pipeline.

    parse(delivery) -> payload: the stored bytes read once; `invalid` errors mean the body is unusable.
    handle(delivery, payload, client) -> result: the work (network calls allowed: no transaction is open).
    finished(delivery, payload, result) -> outcome: runs after the delivery is marked processed.
    invalid: errors that mean the payload is unusable ("invalid", never retried).
    transient: the provider's and network errors, retried unless the error says `permanent`
      (TRANSIENT_DB_ERRORS are added: a lost connection or a deadlock is worth another try for any source).
    transient_unexpected(exc): whether some other error is worth another try after all.
    """

    name: str
    parse: Callable[[WebhookDelivery], Any]
    handle: Callable[[WebhookDelivery, Any, Any], Any]
    finished: Callable[[WebhookDelivery, Any, Any], str]
    invalid: tuple[type[BaseException], ...]
    transient: tuple[type[BaseException], ...]
    transient_unexpected: Callable[[BaseException], bool] = _never

    @property
    def retried(self) -> tuple[type[BaseException], ...]:
        """The classes a task running this source retries (its `autoretry_for`)."""
        return (*self.transient, *TRANSIENT_DB_ERRORS)


def delivery_process(source: DeliverySource, delivery_id: int, *, client: Any = None, replay: bool = False) -> str:
    """Claim one stored delivery and apply it (see the module docstring); its outcome as a word or a
    short phrase: "skipped" (not claimable now), "ignored", "invalid", "failed", or the source's own."""
    if not webhook_delivery_claim(delivery_id=delivery_id, retry_failed=replay):
        return "skipped"
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    with (correlation.use(delivery.correlation_id or correlation.ensure()),
          webhook_delivery_lease_kept(delivery=delivery)):
        return _apply_claimed(source, delivery, client=client)


def _apply_claimed(source: DeliverySource, delivery: WebhookDelivery, *, client: Any) -> str:
    try:
        payload = source.parse(delivery)
        result = source.handle(delivery, payload, client)
    except DeliveryIgnored as exc:
        logger.info("%s; stored and acknowledged", exc)
        webhook_delivery_finish(delivery_id=delivery.pk, status=WebhookDelivery.Status.IGNORED)
        return "ignored"
    except source.invalid as exc:
        delivery_failed(delivery_id=delivery.pk, exc=exc)
        return "invalid"
    except source.retried as exc:
        delivery_failed(delivery_id=delivery.pk, exc=exc)
        if getattr(exc, "permanent", False):
            return "failed"
        raise
    except Exception as exc:  # noqa: BLE001 - a value the database refuses, or a bug: kept for replay
        delivery_failed(delivery_id=delivery.pk, exc=exc)
        if source.transient_unexpected(exc):
            raise
        logger.exception("%s delivery %s (%s) failed unexpectedly", source.name, delivery.pk, delivery.topic)
        return "failed"
    webhook_delivery_finish(delivery_id=delivery.pk, status=WebhookDelivery.Status.PROCESSED)
    return source.finished(delivery, payload, result)

