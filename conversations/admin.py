from django.contrib import admin, messages
from django.contrib.admin import SimpleListFilter
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import F
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.timesince import timesince

from conversations import admin_triage  # noqa: F401 - registers the triaged-mail lists
from conversations.admin_review import review_context
from conversations.models import DRAFT_INTENTS, Approval, Conversation, Draft, Message
from conversations.services.approvals import draft_approve, draft_edit_and_approve, draft_reject
from conversations.services.sending import draft_send_retry
from omnichannel.admin import ReadOnlyAdminMixin
from omnichannel.blobstore import blob_get
from omnichannel.errors import ApplicationError


class EstimatedCountPaginator(Paginator):
    """An unfiltered list of a huge table is counted from Postgres' statistics, not COUNT(*)."""

    @cached_property
    def count(self):
        query = self.object_list.query
        if connection.vendor == "postgresql" and not query.where:
            with connection.cursor() as cursor:
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [query.model._meta.db_table])
                row = cursor.fetchone()
            if row and row[0] > 10_000:
                return row[0]
        return super().count


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["subject", "channel", "customer", "status", "unread_count", "last_message_at"]
    list_filter = ["channel", "status", "is_archived"]
    search_fields = ["subject", "customer__email", "=external_thread_id"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["sent_at", "direction", "from_address", "subject", "triage_label", "conversation"]
    list_filter = ["direction", "triage_label"]
    search_fields = ["=external_msg_id", "from_address", "subject"]
    list_select_related = ["conversation"]
    exclude = ["raw_payload", "body_html"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator


class ConfidenceBucketFilter(SimpleListFilter):
    title = "confidence"
    parameter_name = "confidence"
    BUCKETS = {"low": (0.0, 0.5), "medium": (0.5, 0.8), "high": (0.8, 1.01)}

    def lookups(self, request, model_admin):
        return [("low", "Low (< 0.5): check carefully"), ("medium", "Medium (0.5-0.8)"), ("high", "High (>= 0.8)")]

    def queryset(self, request, queryset):
        if self.value() in self.BUCKETS:
            low, high = self.BUCKETS[self.value()]
            return queryset.filter(confidence__gte=low, confidence__lt=high)
        return queryset


class IntentFilter(SimpleListFilter):
    """Choices from the assistant's fixed intent taxonomy: a field filter would run SELECT DISTINCT
    over every draft on each page view of the queue, and a cached one would go stale."""

    title = "intent"
    parameter_name = "intent"

    def lookups(self, request, model_admin):
        return [(intent, intent.replace("_", " ")) for intent in DRAFT_INTENTS]

    def queryset(self, request, queryset):
        return queryset.filter(intent=self.value()) if self.value() else queryset


class ChannelFilter(SimpleListFilter):
    title = "channel"
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        return Conversation.Channel.choices

    def queryset(self, request, queryset):
        return queryset.filter(conversation__channel=self.value()) if self.value() else queryset


@admin.register(Draft)
class DraftAdmin(admin.ModelAdmin):
    """The draft queue (pending first, oldest first) and, per draft, the review page."""

    list_display = ["id", "customer_email", "subject", "intent", "confidence_badge", "age", "channel", "status"]
    list_display_links = ["id", "subject"]
    list_filter = ["status", ConfidenceBucketFilter, IntentFilter, ChannelFilter]
    search_fields = ["conversation__customer__email", "body", "conversation__subject"]
    ordering = ["created_at", "id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50

    def get_queryset(self, request):
        # The columns the queue shows come from one joined query, whatever the number of rows.
        return super().get_queryset(request).annotate(
            customer_email_value=F("conversation__customer__email"), subject_value=F("conversation__subject"),
            channel_value=F("conversation__channel"),
        )

    def changelist_view(self, request, extra_context=None):
        if not request.GET:  # the queue opens on what needs doing
            return HttpResponseRedirect(f"{request.path}?status__exact=pending")
        return super().changelist_view(request, extra_context)

    @admin.display(description="customer", ordering="conversation__customer__email")
    def customer_email(self, obj):
        return obj.customer_email_value or "-"

    @admin.display(description="subject", ordering="conversation__subject")
    def subject(self, obj):
        return obj.subject_value or "(no subject)"

    @admin.display(description="channel")
    def channel(self, obj):
        return obj.channel_value

    @admin.display(description="confidence", ordering="confidence")
    def confidence_badge(self, obj):
        return f"{obj.confidence:.2f}" + (" ⚠" if obj.confidence < 0.5 else "")

    @admin.display(description="age", ordering="created_at")
    def age(self, obj):
        return timesince(obj.created_at, timezone.now()).split(",")[0]

    def has_add_permission(self, request):
        return False  # drafts come from the assistant

    def has_change_permission(self, request, obj=None):
        return False  # drafts change only through decisions (the review page), never by a form

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("<int:draft_id>/decide/", self.admin_site.admin_view(self.decide_view), name="conversations_draft_decide"),
            path("<int:draft_id>/resend/", self.admin_site.admin_view(self.resend_view), name="conversations_draft_resend"),
            path("<int:draft_id>/attachment/<int:message_id>/<int:index>/",
                 self.admin_site.admin_view(self.attachment_view), name="conversations_draft_attachment"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            context = review_context(int(object_id))
        except (Draft.DoesNotExist, ValueError):
            raise Http404(f"draft {object_id} does not exist") from None
        context.update(self.admin_site.each_context(request), opts=self.model._meta, title=f"Review draft {object_id}",
                       can_decide=request.user.has_perm("conversations.decide_draft"))
        return TemplateResponse(request, "admin/conversations/draft/review.html", context)

    def decide_view(self, request, draft_id: int):
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:conversations_draft_change", args=[draft_id]))
        if not request.user.has_perm("conversations.decide_draft"):
            raise PermissionDenied
        action = request.POST.get("action")
        text = request.POST.get("final_text", "").replace("\r\n", "\n")
        try:
            if action == "approve":
                draft_approve(draft_id=draft_id, acting_user=request.user)
            elif action == "edit" and text.strip() == Draft.objects.values_list("body", flat=True).get(pk=draft_id).strip():
                action = "approve"  # saved without changes: an approval as drafted, with no empty diff
                draft_approve(draft_id=draft_id, acting_user=request.user)
            elif action == "edit":
                draft_edit_and_approve(draft_id=draft_id, acting_user=request.user, final_text=text)
            elif action == "reject":
                draft_reject(draft_id=draft_id, acting_user=request.user, reason=request.POST.get("reason", ""))
            else:
                raise ApplicationError(f"unknown action {action!r}")
        except ApplicationError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return HttpResponseRedirect(reverse("admin:conversations_draft_change", args=[draft_id]))
        verb = {"approve": "approved and queued for sending", "edit": "edited, approved and queued for sending",
                "reject": "rejected"}[action]
        self.message_user(request, f"Draft {draft_id} {verb}.", level=messages.SUCCESS)
        next_id = (Draft.objects.filter(status=Draft.Status.PENDING).order_by("created_at", "id")
                   .values_list("pk", flat=True).first())
        if next_id:
            return HttpResponseRedirect(reverse("admin:conversations_draft_change", args=[next_id]))
        return HttpResponseRedirect(reverse("admin:conversations_draft_changelist") + "?status__exact=pending")

    def resend_view(self, request, draft_id: int):
        """Send again an approved draft whose send failed or was interrupted (the agent checked Zoho first)."""
        review = reverse("admin:conversations_draft_change", args=[draft_id])
        if request.method != "POST":
            return HttpResponseRedirect(review)
        if not request.user.has_perm("conversations.decide_draft"):
            raise PermissionDenied
        try:
            draft_send_retry(draft_id=draft_id, acting_user=request.user)
        except ApplicationError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
        else:
            self.message_user(request, f"Draft {draft_id} queued for sending again.", level=messages.SUCCESS)
        return HttpResponseRedirect(review)

    def attachment_view(self, request, draft_id: int, message_id: int, index: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        message = Message.objects.filter(pk=message_id, conversation__drafts__pk=draft_id).first()
        if message is None or index >= len(message.attachments) or not message.attachments[index].get("blob_key"):
            raise Http404("no such attachment")
        attachment = message.attachments[index]
        return FileResponse(iter([blob_get(attachment["blob_key"])]), as_attachment=True,
                            filename=attachment.get("name") or "attachment")


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["taken_at", "draft", "action", "approved_by"]
    list_filter = ["action"]
    list_select_related = ["draft", "approved_by"]
    show_full_result_count = False
