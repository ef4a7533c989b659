"""API of model runs (read only) and the model_quality read models (drafts; emails by triage label)."""

from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from assistants.model_quality import BUCKETS, model_quality_calibration, model_quality_list, model_quality_triage_list
from assistants.models import ModelRun
from conversations.models import Conversation, Message
from omnichannel.api_common import GroupModelPermissions, MethodCheckedFirst


class ModelRunOut(serializers.ModelSerializer):
    class Meta:
        model = ModelRun
        fields = ["id", "conversation", "message", "provider", "model_slug", "prompt_hash", "temperature", "tokens_in",
                  "tokens_out", "cost_usd", "latency_ms", "intent", "sources", "evaluation", "input_truncated",
                  "status", "error", "created_at"]


class ModelRunViewSet(MethodCheckedFirst, viewsets.ReadOnlyModelViewSet):
    permission_classes = [GroupModelPermissions]
    serializer_class = ModelRunOut
    queryset = ModelRun.objects.all()
    filterset_fields = ["status", "intent", "model_slug", "conversation"]


class WeeksFilterIn(serializers.Serializer):
    week_from = serializers.DateField(required=False, help_text="Any day of the first ISO week wanted (included)")
    week_to = serializers.DateField(required=False, help_text="Any day of the last ISO week wanted (included)")
    channel = serializers.ChoiceField(choices=Conversation.Channel.choices, required=False)

    def validate(self, attrs):
        if "week_from" in attrs and "week_to" in attrs and attrs["week_from"] > attrs["week_to"]:
            raise ValidationError({"week_to": f"{attrs['week_to']} is before week_from {attrs['week_from']}"})
        return attrs


class ModelQualityFilterIn(WeeksFilterIn):
    confidence_bucket = serializers.ChoiceField(choices=BUCKETS, required=False,
                                                help_text="low < 0.5 <= medium < 0.8 <= high")


class ModelQualityTriageFilterIn(WeeksFilterIn):
    label = serializers.ChoiceField(choices=Message.Triage.choices, required=False)


class ModelQualityOut(serializers.Serializer):
    week = serializers.DateField(help_text="The Monday of the ISO week (UTC)")
    iso_week = serializers.CharField()
    channel = serializers.CharField()
    confidence_bucket = serializers.CharField()
    drafts = serializers.IntegerField()
    tokens_in = serializers.IntegerField()
    tokens_out = serializers.IntegerField()
    cost_usd = serializers.DecimalField(max_digits=14, decimal_places=6)
    mean_latency_ms = serializers.FloatField(allow_null=True)
    decided = serializers.IntegerField(help_text="Drafts approved, edited or rejected")
    approved = serializers.IntegerField()
    edited = serializers.IntegerField()
    rejected = serializers.IntegerField()
    approve_rate = serializers.FloatField(allow_null=True, help_text="approved / decided")
    edit_rate = serializers.FloatField(allow_null=True, help_text="edited / decided")
    reject_rate = serializers.FloatField(allow_null=True, help_text="rejected / decided")
    mean_edit_lines = serializers.FloatField(allow_null=True, help_text="Changed lines per edit (from the diffs)")


class CanViewModelRuns(BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.has_perm("assistants.view_modelrun"))


def _report_response(request, *, filters_in: type[serializers.Serializer], report,
                     rows_out: type[serializers.Serializer]) -> Response:
    """A model-quality report: its query string validated by `filters_in`, its rows (dataclasses) through `rows_out`."""
    filters = filters_in(data=request.query_params)
    filters.is_valid(raise_exception=True)
    return Response(rows_out([asdict(row) for row in report(**filters.validated_data)], many=True).data)


class ModelQualityView(MethodCheckedFirst, APIView):
    """`/api/model_quality/`: drafts, tokens, cost, latency and agents' decisions per ISO week,
    channel and confidence bucket, newest week first."""

    permission_classes = [CanViewModelRuns]

    @extend_schema(parameters=[ModelQualityFilterIn], responses=ModelQualityOut(many=True), operation_id="model_quality")
    def get(self, request):
        return _report_response(request, filters_in=ModelQualityFilterIn, report=model_quality_list,
                                rows_out=ModelQualityOut)


class ModelQualityCalibrationOut(serializers.Serializer):
    confidence_bucket = serializers.ChoiceField(choices=BUCKETS, help_text="low < 0.5 <= medium < 0.8 <= high")
    drafts = serializers.IntegerField()
    decided = serializers.IntegerField(help_text="Drafts approved, edited or rejected")
    approved = serializers.IntegerField()
    edited = serializers.IntegerField()
    rejected = serializers.IntegerField()
    edited_or_rejected_rate = serializers.FloatField(allow_null=True, help_text="(edited + rejected) / decided")


class ModelQualityCalibrationView(MethodCheckedFirst, APIView):
    """`/api/model_quality/calibration/`: per confidence bucket, the share of decided drafts that agents
    edited or rejected, over the weeks asked (all by default): whether the confidence means something."""

    permission_classes = [CanViewModelRuns]

    @extend_schema(parameters=[WeeksFilterIn], responses=ModelQualityCalibrationOut(many=True),
                   operation_id="model_quality_calibration")
    def get(self, request):
        return _report_response(request, filters_in=WeeksFilterIn, report=model_quality_calibration,
                                rows_out=ModelQualityCalibrationOut)


class ModelQualityTriageOut(serializers.Serializer):
    week = serializers.DateField(help_text="The Monday of the ISO week (UTC) the emails arrived in")
    iso_week = serializers.CharField()
    channel = serializers.CharField()
    label = serializers.ChoiceField(choices=Message.Triage.choices,
                                    help_text="customer (drafted) or what got no draft: auto_reply, bounce, spam, "
                                              "privacy_request")
    emails = serializers.IntegerField(help_text="Inbound emails triaged with this label")


class ModelQualityTriageView(MethodCheckedFirst, APIView):
    """`/api/model_quality/triage/`: inbound emails per ISO week, channel and triage label, newest week
    first, so the auto-replies, bounces, spam and privacy requests that got no draft are counted too."""

    permission_classes = [CanViewModelRuns]

    @extend_schema(parameters=[ModelQualityTriageFilterIn], responses=ModelQualityTriageOut(many=True),
                   operation_id="model_quality_triage")
    def get(self, request):
        return _report_response(request, filters_in=ModelQualityTriageFilterIn, report=model_quality_triage_list,
                                rows_out=ModelQualityTriageOut)
