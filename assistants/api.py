"""API of model runs (read only)."""

from rest_framework import serializers, viewsets

from assistants.models import ModelRun
from omnichannel.api_common import GroupModelPermissions


class ModelRunOut(serializers.ModelSerializer):
    class Meta:
        model = ModelRun
        fields = ["id", "conversation", "message", "provider", "model_slug", "prompt_hash", "temperature", "tokens_in",
                  "tokens_out", "cost_usd", "latency_ms", "intent", "sources", "evaluation", "input_truncated",
                  "status", "error", "created_at"]


class ModelRunViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [GroupModelPermissions]
    serializer_class = ModelRunOut
    queryset = ModelRun.objects.all()
    filterset_fields = ["status", "intent", "model_slug", "conversation"]
