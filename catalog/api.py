"""API of stock and product requests (read only: Shopify and the mail are their sources)."""

from rest_framework import serializers, viewsets

from catalog.models import InventoryItem, ProductRequest
from omnichannel.api_common import GroupModelPermissions, MethodCheckedFirst


class InventoryItemOut(serializers.ModelSerializer):
    class Meta:
        model = InventoryItem
        fields = ["id", "sku", "shopify_id", "title", "quantity_available", "lead_time_days", "price_cents", "currency",
                  "tracked", "source_updated_at"]


class ProductRequestOut(serializers.ModelSerializer):
    class Meta:
        model = ProductRequest
        fields = ["id", "customer", "conversation", "description", "normalized", "count", "trend_score", "requested_at"]


class InventoryItemViewSet(MethodCheckedFirst, viewsets.ReadOnlyModelViewSet):
    permission_classes = [GroupModelPermissions]
    serializer_class = InventoryItemOut
    queryset = InventoryItem.objects.all()
    filterset_fields = ["sku", "tracked"]


class ProductRequestViewSet(MethodCheckedFirst, viewsets.ReadOnlyModelViewSet):
    permission_classes = [GroupModelPermissions]
    serializer_class = ProductRequestOut
    queryset = ProductRequest.objects.all()
    filterset_fields = ["normalized", "customer"]
