"""API of conversations and drafts. Draft decisions call the same services as the admin."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from conversations.models import Approval, Conversation, Draft, Message
from conversations.services.approvals import draft_approve, draft_approve_text, draft_reject, draft_undo
from omnichannel.api_common import GroupModelPermissions, MethodCheckedFirst


class MessageOut(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["id", "direction", "external_msg_id", "from_address", "from_name", "to_addresses", "subject",
                  "body", "attachments", "sent_at", "triage_label", "triage_reason"]


class ConversationOut(serializers.ModelSerializer):
    messages = MessageOut(many=True, read_only=True)

    class Meta:
        model = Conversation
        fields = ["id", "channel", "external_thread_id", "subject", "customer", "status", "unread_count",
                  "last_message_at", "created_at", "messages"]


class ConversationViewSet(MethodCheckedFirst, viewsets.ReadOnlyModelViewSet):
    permission_classes = [GroupModelPermissions]
    serializer_class = ConversationOut
    filterset_fields = ["channel", "status", "customer"]
    queryset = Conversation.objects.prefetch_related(
        Prefetch("messages", queryset=Message.objects.filter(is_erased=False).order_by("sent_at", "id")))


class DraftOut(serializers.ModelSerializer):
    reasons = serializers.SerializerMethodField(
        help_text="Why the draft has its confidence: {summary, answered, needs_person, sources, caps, classifier, "
                  "language}, as stored on its model run ({} for a draft without one)")

    class Meta:
        model = Draft
        fields = ["id", "conversation", "reply_to", "model_run", "body", "confidence", "reasons", "intent", "status",
                  "send_attempts", "last_send_error", "created_at", "decided_at", "send_after", "origin", "replaces"]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_reasons(self, draft: Draft) -> dict:
        run = draft.model_run
        return (run.evaluation or {}).get("reasons") or {} if run is not None else {}


class ApprovalOut(serializers.ModelSerializer):
    class Meta:
        model = Approval
        fields = ["id", "draft", "action", "approved_by", "final_text", "diff", "reason", "taken_at"]


class EditIn(serializers.Serializer):
    final_text = serializers.CharField(allow_blank=False, trim_whitespace=False, max_length=100_000)


class RejectIn(serializers.Serializer):
    reason = serializers.CharField(allow_blank=False, max_length=5000)


class CanDecideDrafts(BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.has_perm("conversations.decide_draft"))


class DraftViewSet(MethodCheckedFirst, viewsets.ReadOnlyModelViewSet):
    """Drafts; `approve`, `edit` and `reject` answer 409 when the draft is no longer pending."""

    permission_classes = [GroupModelPermissions]
    serializer_class = DraftOut
    queryset = Draft.objects.select_related("model_run")  # the reasons are on the run: one query per page
    filterset_fields = ["status", "intent", "conversation"]

    def _decided(self, approval: Approval) -> Response:
        return Response(ApprovalOut(approval).data)

    @extend_schema(request=None, responses={200: ApprovalOut})
    @action(detail=True, methods=["post"], permission_classes=[CanDecideDrafts])
    def approve(self, request, pk=None):
        return self._decided(draft_approve(draft_id=self.get_object().pk, acting_user=request.user))

    @extend_schema(request=EditIn, responses={200: ApprovalOut})
    @action(detail=True, methods=["post"], permission_classes=[CanDecideDrafts])
    def edit(self, request, pk=None):
        data = EditIn(data=request.data)
        data.is_valid(raise_exception=True)
        # Unchanged text is an approval as drafted (action "approve", no empty diff), as in the admin.
        return self._decided(draft_approve_text(draft_id=self.get_object().pk, acting_user=request.user,
                                                final_text=data.validated_data["final_text"]))

    @extend_schema(request=RejectIn, responses={200: ApprovalOut})
    @action(detail=True, methods=["post"], permission_classes=[CanDecideDrafts])
    def reject(self, request, pk=None):
        data = RejectIn(data=request.data)
        data.is_valid(raise_exception=True)
        return self._decided(draft_reject(draft_id=self.get_object().pk, acting_user=request.user,
                                          reason=data.validated_data["reason"]))

    @extend_schema(request=None, responses={200: DraftOut})
    @action(detail=True, methods=["post"], permission_classes=[CanDecideDrafts])
    def undo(self, request, pk=None):
        """Take back an approval within SEND_UNDO_SECONDS: 200 with the pending draft back in review
        (null body when a newer draft of the conversation waits instead), 409 once sending started."""
        pending = draft_undo(draft_id=self.get_object().pk, acting_user=request.user)
        return Response(DraftOut(pending).data if pending else None)


class ApprovalViewSet(MethodCheckedFirst, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [GroupModelPermissions]
    serializer_class = ApprovalOut
    queryset = Approval.objects.all()
    filterset_fields = ["action", "draft"]
