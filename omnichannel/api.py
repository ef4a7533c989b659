"""API of the audit log (read only; Ops)."""

from rest_framework import serializers, viewsets

from omnichannel.api_common import GroupModelPermissions, MethodCheckedFirst
from omnichannel.models import AuditLog


class AuditLogOut(serializers.ModelSerializer):
    class Meta:
        model = AuditLog
        fields = "__all__"


class AuditLogViewSet(MethodCheckedFirst, viewsets.ReadOnlyModelViewSet):
    permission_classes = [GroupModelPermissions]
    serializer_class = AuditLogOut
    queryset = AuditLog.objects.all()
    filterset_fields = ["event_type", "correlation_id", "object_type", "object_id"]
