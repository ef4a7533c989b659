"""API of FAQ entries (read), corrections (Ops write them, through the service) and FAQ proposals
(Ops review them: the same decisions as the admin's review page, through the same services)."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from faq.correction_candidates import correction_candidates, drafts_it_would_change_each
from faq.models import Correction, FaqEntry, FaqProposal, FaqProposalObservation
from faq.services import correction_candidate_accept, correction_upsert
from faq.services_proposals import (
    faq_proposal_approve,
    faq_proposal_dismiss,
    faq_proposal_edit,
    faq_proposal_publish,
    faq_proposals_refresh,
)
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


class CorrectionCandidateOut(serializers.Serializer):
    removed = serializers.CharField()
    added = serializers.CharField()
    count = serializers.IntegerField()
    last_seen = serializers.DateTimeField()
    approval_ids = serializers.ListField(child=serializers.IntegerField())
    example_line = serializers.CharField()
    suggested_key = serializers.CharField()
    suggested_pattern = serializers.CharField()
    would_change = serializers.ListField(child=serializers.IntegerField(),
                                         help_text="past drafts the correction would have changed, newest first")


class CorrectionCandidateAcceptIn(serializers.Serializer):
    removed = serializers.CharField(allow_blank=True, max_length=5000, trim_whitespace=False)
    added = serializers.CharField(allow_blank=True, max_length=5000, trim_whitespace=False)
    min_count = serializers.IntegerField(min_value=2, max_value=1000, default=3)


class CanAddCorrections(BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.has_perm("faq.add_correction"))


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

    @extend_schema(responses={200: CorrectionCandidateOut(many=True)})
    @action(detail=False, methods=["get"], url_path="candidates", permission_classes=[CanAddCorrections],
            pagination_class=None, filter_backends=[])
    def candidates(self, request):
        """Edits agents made 3 times or more that no active correction covers yet (as the admin's page)."""
        found = correction_candidates(min_count=3)
        would_change = drafts_it_would_change_each(found)
        return Response(CorrectionCandidateOut([{**c.__dict__, "suggested_key": c.suggested_key,
                                                 "would_change": ids} for c, ids in zip(found, would_change, strict=True)],
                                               many=True).data)

    @extend_schema(request=CorrectionCandidateAcceptIn, responses={201: CorrectionSerializer})
    @action(detail=False, methods=["post"], url_path="candidates/accept", permission_classes=[CanAddCorrections])
    def accept_candidate(self, request):
        """Accept the candidate named by its (removed, added) pair: its text is read again from the approvals,
        and it becomes a correction through the service (400 when it is no longer a candidate)."""
        data = CorrectionCandidateAcceptIn(data=request.data)
        data.is_valid(raise_exception=True)
        correction = correction_candidate_accept(**data.validated_data, acting_user=request.user)
        return Response(CorrectionSerializer(correction).data, status=status.HTTP_201_CREATED)


class FaqProposalObservationOut(serializers.ModelSerializer):
    class Meta:
        model = FaqProposalObservation
        fields = ["approval", "message", "conversation", "edited", "seen_at"]


class FaqProposalOut(serializers.ModelSerializer):
    class Meta:
        model = FaqProposal
        fields = ["id", "intent", "question", "answer", "status", "source_count", "edited_count", "first_seen_at",
                  "last_seen_at", "edited_by_ops", "dismissed_reason", "dismissed_at", "faq_entry", "approved_at",
                  "published_at"]


class FaqProposalDetailOut(FaqProposalOut):
    observations = serializers.SerializerMethodField()

    class Meta(FaqProposalOut.Meta):
        fields = [*FaqProposalOut.Meta.fields, "observations"]

    @extend_schema_field(FaqProposalObservationOut(many=True))
    def get_observations(self, proposal) -> list[dict]:
        rows = proposal.observations.order_by("-seen_at", "-id")[:200]
        return FaqProposalObservationOut(rows, many=True).data


class ProposalTextIn(serializers.Serializer):
    question = serializers.CharField(max_length=500, required=False)
    answer = serializers.CharField(max_length=20_000, required=False)


class DismissIn(serializers.Serializer):
    reason = serializers.CharField(allow_blank=False, max_length=2000)


class RefreshOut(serializers.Serializer):
    mode = serializers.CharField()
    created = serializers.ListField(child=serializers.IntegerField())
    resurfaced = serializers.ListField(child=serializers.IntegerField())
    observations = serializers.IntegerField()
    covered = serializers.IntegerField()
    unplaced = serializers.IntegerField()
    skipped = serializers.CharField()


class CanReviewProposals(BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.has_perm("faq.change_faqproposal"))


class CanPublishProposals(BasePermission):
    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.has_perm("faq.change_faqproposal") and user.has_perm("faq.publish_faqentry"))


class FaqProposalViewSet(MethodCheckedFirst, viewsets.ReadOnlyModelViewSet):
    """FAQ proposals, most asked first. `edit`, `approve`, `publish` (approve and publish: the shop's
    FAQ page is rebuilt) and `dismiss` (with a reason) are Ops' decisions; 400 when the text still
    holds a customer's facts or a placeholder for one, 409 when the proposal's state forbids it."""

    permission_classes = [GroupModelPermissions]
    queryset = FaqProposal.objects.all()
    filterset_fields = ["status", "intent"]

    def get_serializer_class(self):
        return FaqProposalDetailOut if self.action == "retrieve" else FaqProposalOut

    def _text(self, request) -> dict:
        data = ProposalTextIn(data=request.data)
        data.is_valid(raise_exception=True)
        return data.validated_data

    def _out(self, proposal) -> Response:
        return Response(FaqProposalOut(proposal).data)

    @extend_schema(request=ProposalTextIn, responses={200: FaqProposalOut})
    @action(detail=True, methods=["post"], permission_classes=[CanReviewProposals])
    def edit(self, request, pk=None):
        proposal, text = self.get_object(), self._text(request)
        return self._out(faq_proposal_edit(proposal_id=proposal.pk, question=text.get("question", proposal.question),
                                           answer=text.get("answer", proposal.answer), acting_user=request.user))

    @extend_schema(request=ProposalTextIn, responses={200: FaqProposalOut})
    @action(detail=True, methods=["post"], permission_classes=[CanReviewProposals])
    def approve(self, request, pk=None):
        text = self._text(request)
        return self._out(faq_proposal_approve(proposal_id=self.get_object().pk, acting_user=request.user,
                                              question=text.get("question"), answer=text.get("answer")))

    @extend_schema(request=ProposalTextIn, responses={200: FaqProposalOut})
    @action(detail=True, methods=["post"], permission_classes=[CanPublishProposals])
    def publish(self, request, pk=None):
        text = self._text(request)
        return self._out(faq_proposal_publish(proposal_id=self.get_object().pk, acting_user=request.user,
                                              question=text.get("question"), answer=text.get("answer")))

    @extend_schema(request=DismissIn, responses={200: FaqProposalOut})
    @action(detail=True, methods=["post"], permission_classes=[CanReviewProposals])
    def dismiss(self, request, pk=None):
        data = DismissIn(data=request.data)
        data.is_valid(raise_exception=True)
        return self._out(faq_proposal_dismiss(proposal_id=self.get_object().pk, reason=data.validated_data["reason"],
                                              acting_user=request.user))

    @extend_schema(request=None, responses={200: RefreshOut})
    @action(detail=False, methods=["post"], permission_classes=[CanReviewProposals])
    def refresh(self, request):
        report = faq_proposals_refresh(acting_user=request.user)
        return Response(RefreshOut({"mode": report.mode, "created": report.created, "resurfaced": report.resurfaced,
                                    "observations": report.observations, "covered": report.covered,
                                    "unplaced": report.unplaced, "skipped": report.skipped}).data)
