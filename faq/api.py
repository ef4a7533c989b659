"""API of FAQ entries (read) and corrections (Ops write them, through the service)."""

from rest_framework import serializers, status, viewsets
from rest_framework.response import Response

from faq.models import Correction, FaqEntry
from faq.services import correction_upsert
from omnichannel.api_common import GroupModelPermissions, MethodCheckedFirst


class FaqEntryOut(serializers.ModelSerializer):
    class Meta:
        model = FaqEntry
        fields = ["id", "question", "answer", "status", "source_intent", "position", "published_at"]


class CorrectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Correction
        fields = ["id", "key", "pattern", "answer", "sources", "is_active", "last_verified", "updated_at"]
        read_only_fields = ["id", "updated_at"]
        extra_kwargs = {"key": {"validators": []}}  # an existing key is an update, not an error


class FaqEntryViewSet(MethodCheckedFirst, viewsets.ReadOnlyModelViewSet):
    permission_classes = [GroupModelPermissions]
    serializer_class = FaqEntryOut
    queryset = FaqEntry.objects.all()
    filterset_fields = ["status", "source_intent"]


class CorrectionViewSet(MethodCheckedFirst, viewsets.ModelViewSet):
    """Agents read; Ops create and change (a change re-drafts the pending drafts it touches)."""

    permission_classes = [GroupModelPermissions]
    serializer_class = CorrectionSerializer
    queryset = Correction.objects.all()
    filterset_fields = ["is_active", "key"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def _save(self, request, instance=None, partial=False):
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = {**(CorrectionSerializer(instance).data if instance else {}), **serializer.validated_data}
        correction, outcome = correction_upsert(
            key=data["key"], pattern=data["pattern"], answer=data["answer"], sources=data.get("sources") or [],
            last_verified=data.get("last_verified"), is_active=data.get("is_active", True), acting_user=request.user)
        return Response(CorrectionSerializer(correction).data,
                        status=status.HTTP_201_CREATED if outcome == "created" else status.HTTP_200_OK)

    def create(self, request, *args, **kwargs):
        return self._save(request)

    def update(self, request, *args, **kwargs):
        return self._save(request, self.get_object(), partial=kwargs.get("partial", False))
