"""The catalog app's part of a customer's erasure and of her data-request export (registered with
customers/parts.py in CatalogConfig.ready; customers/services_erasure.py runs them): her product
requests, hers by her customer row or found in her conversations."""

from __future__ import annotations

from django.db.models import Q

from catalog.models import ProductRequest
from customers.parts import Erasure, Export


def catalog_erase_customer(erasure: Erasure) -> dict[str, int]:
    """Inside the erasure's transaction: the requests keep their product and date, not her words."""
    return {"product_requests": ProductRequest.objects.filter(
        Q(customer__in=erasure.customers) | Q(conversation__in=erasure.conversation_ids)).update(description="")}


def catalog_export_customer(export: Export) -> tuple[dict[str, list], dict[str, int]]:
    requests = list(ProductRequest.objects.filter(Q(customer__in=export.customers) | Q(
        conversation__in=export.conversation_ids)).order_by("requested_at").values("description", "requested_at"))
    return {"product_requests": requests}, {"product_requests": len(requests)}
