"""The assistants app's part of a customer's erasure (registered with customers/parts.py in
AssistantsConfig.ready; customers/services_erasure.py runs it)."""

from __future__ import annotations

from assistants.models import ModelRun
from customers.parts import Erasure


def assistants_erase_customer(erasure: Erasure) -> dict[str, int]:
    """Inside the erasure's transaction: the facts a draft was built from (her orders, her words) and
    an error text that may quote them."""
    return {"model_runs": ModelRun.objects.filter(conversation__in=erasure.conversation_ids).update(
        sources=[], evaluation={}, error="")}
