"""API of customers, orders and the customer summary read model."""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.models import Customer, Order
from customers.selectors import customer_summary_get
from customers.services_erasure import customer_erase
from omnichannel.api_common import GroupModelPermissions, IsOps, MethodCheckedFirst


class CustomerOut(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "shopify_id", "email", "name", "phone", "segment", "lifetime_value_cents", "currency",
                  "orders_count", "shipping_addresses", "tags", "source_updated_at"]


class OrderOut(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = ["id", "shopify_id", "name", "customer", "email", "status", "financial_status", "fulfillment_status",
                  "tracking", "line_items", "refunds", "total_price_cents", "currency", "placed_at", "cancelled_at",
                  "source_updated_at"]


class ErasureOut(serializers.Serializer):
    customers = serializers.ListField(child=serializers.IntegerField(), help_text="ids of the erased customer rows")
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="rows blanked, per table")


class CustomerViewSet(MethodCheckedFirst, viewsets.ReadOnlyModelViewSet):
    """Customers; Ops answer an erasure request with `POST /api/customers/<id>/erase/`."""

    permission_classes = [GroupModelPermissions]
    serializer_class = CustomerOut
    queryset = Customer.objects.filter(is_erased=False)
    filterset_fields = ["segment", "email", "shopify_id"]

    @extend_schema(request=None, responses={200: ErasureOut})
    @action(detail=True, methods=["post"], permission_classes=[IsOps])
    def erase(self, request, pk=None):
        """Blank this customer's personal data in every table (by their email: orders, threads, drafts,
        approvals, raw deliveries); ids, amounts and history stay. The same service as `erase_customer`."""
        customer = self.get_object()
        report = customer_erase(email=customer.email, shopify_id=customer.shopify_id or "",  # refreshes the summary
                                acting_user=request.user)
        return Response(ErasureOut({"customers": report.customers, "counts": report.counts}).data)


class OrderViewSet(MethodCheckedFirst, viewsets.ReadOnlyModelViewSet):
    permission_classes = [GroupModelPermissions]
    serializer_class = OrderOut
    queryset = Order.objects.filter(is_erased=False)
    filterset_fields = ["status", "customer", "email", "shopify_id", "name"]


class OrderLineOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()
    tracking = serializers.ListField(child=serializers.DictField())
    placed_at = serializers.CharField(allow_null=True)
    total_price_cents = serializers.IntegerField()


class OpenDraftOut(serializers.Serializer):
    id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    intent = serializers.CharField(allow_blank=True)
    confidence = serializers.FloatField()
    created_at = serializers.CharField(allow_null=True)


class CustomerSummaryOut(serializers.Serializer):
    customer_id = serializers.IntegerField(allow_null=True)
    email = serializers.CharField()
    name = serializers.CharField()
    segment = serializers.CharField()
    lifetime_value_cents = serializers.IntegerField()
    currency = serializers.CharField()
    orders_count = serializers.IntegerField()
    shipping_addresses = serializers.ListField(child=serializers.DictField())
    latest_orders = OrderLineOut(many=True)
    backordered_count = serializers.IntegerField()
    open_drafts = OpenDraftOut(many=True)


class _SummaryPermission(GroupModelPermissions):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.has_perm("customers.view_customer"))


class CustomerSummaryView(MethodCheckedFirst, APIView):
    """`/api/customer_summary/<id>/` or `/api/customer_summary/?email=` (guests included)."""

    permission_classes = [_SummaryPermission]

    @extend_schema(responses=CustomerSummaryOut, operation_id="customer_summary_by_id")
    def get(self, request, customer_id: int | None = None):
        email = request.query_params.get("email", "").strip()
        if customer_id is None and not email:
            raise ValidationError({"email": "give ?email= or use /api/customer_summary/<id>/"})
        if email and ("@" not in email or len(email) > 254 or any(ord(c) < 32 or ord(c) == 127 for c in email)):
            # A NUL would reach Postgres (which refuses it: a 500); no address holds control characters.
            raise ValidationError({"email": f"{email[:100]!r} is not an email address"})
        summary = customer_summary_get(customer_id=customer_id, email=email or None)
        if summary is None:
            raise NotFound("no customer or guest orders for that id or email")
        return Response(CustomerSummaryOut(asdict(summary)).data)


class CustomerSummaryByEmailView(CustomerSummaryView):
    @extend_schema(responses=CustomerSummaryOut, operation_id="customer_summary_by_email",
                   parameters=[OpenApiParameter("email", OpenApiTypes.EMAIL, required=True)])
    def get(self, request, customer_id: int | None = None):
        return super().get(request)
