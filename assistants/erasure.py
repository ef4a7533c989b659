"""The assistants app's part of a customer's erasure (customers/signals.py: `customer_erased`)."""

from __future__ import annotations

from assistants.models import ModelRun


def model_runs_erase(sender, *, conversation_ids: list[int], **kwargs) -> dict[str, int]:
    """Inside the erasure's transaction: the facts a draft was built from (her orders, her words) and
    an error text that may quote them."""
    return {"model_runs": ModelRun.objects.filter(conversation__in=conversation_ids).update(
        sources=[], evaluation={}, error="")}
