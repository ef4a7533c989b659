from django.contrib import admin, messages
from django.contrib.admin import SimpleListFilter
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Exists, F, OuterRef, Value, When
from django.db.models.functions import Substr
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from conversations import admin_triage  # noqa: F401 - registers the triaged-mail lists
from conversations.admin_decisions import DraftDecisionViewsMixin
from conversations.admin_filters import ConversationTriageFilter, LanguageFilter, NeedsPersonFilter
from conversations.admin_paging import DeferredJoinAdminMixin, EstimatedCountPaginator  # noqa: F401 - kept importable here
from conversations.admin_reading import (
    CONVERSATION_FIELDSETS,
    ConversationReadingForm,
    MessageReadingForm,
    MessageReadingMixin,
)
from conversations.admin_review import draft_status_text, review_context
from conversations.models import DRAFT_INTENTS, Approval, Conversation, Draft, Message
from conversations.services.claims import draft_claim
from conversations.services.threads import conversation_close, conversation_mark_read
from omnichannel.admin import ReadOnlyAdminMixin


class AwaitingReplyFilter(SimpleListFilter):
    """Open conversations whose customer waits on us with no draft in the queue: the draft was
    rejected, its send failed, triage set it aside, or no draft was made. Someone must answer."""

    title = "needs an answer"
    parameter_name = "awaiting"

    def lookups(self, request, model_admin):
        return [("reply", "Awaiting reply, no pending draft")]

    def queryset(self, request, queryset):
        if self.value() != "reply":
            return queryset
        pending = Draft.objects.filter(conversation=OuterRef("pk"), status=Draft.Status.PENDING)
        return (queryset.filter(status=Conversation.Status.OPEN, waiting_since__isnull=False)
                .exclude(Exists(pending)).order_by("waiting_since"))


class MessageInline(admin.StackedInline):
    """The thread, oldest first, read-only: the conversation page shows what was said."""

    model = Message
    form = MessageReadingForm  # the agent's labels, not the model's developer notes
    fields = ["sent_at", "direction", "from_address", "subject", "body"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["sent_at", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_erased=False)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(DeferredJoinAdminMixin, admin.ModelAdmin):
    form = ConversationReadingForm
    fieldsets = CONVERSATION_FIELDSETS
    list_display = ["subject", "channel", "customer", "status", "waiting", "unread_count", "last_message_at"]
    list_filter = [AwaitingReplyFilter, ConversationTriageFilter, "channel", "status", "is_archived"]
    inlines = [MessageInline]
    search_fields = ["subject", "customer__email", "=external_thread_id"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]
    readonly_fields = ["draft_link"]
    actions = ["close_conversations"]

    # A conversation changes through its services (ingest, close, reopen, archive, erasure), each with its
    # audit row: the admin shows one (a read-only page) and closes them with the action (which the change
    # permission on the list gates), and never saves, adds or deletes one itself.
    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_ordering(self, request):
        # The changelist orders after the filters, so AwaitingReplyFilter's own order_by was lost and "Awaiting
        # reply" listed the newest conversations first: the customer who has waited longest comes first.
        if request.GET.get(AwaitingReplyFilter.parameter_name) == "reply":
            return ["waiting_since", "id"]
        return super().get_ordering(request)

    def changelist_view(self, request, extra_context=None):
        # No app list beside it (as the queue): at 1280 px it pushed the last columns behind a sideways scroll.
        return super().changelist_view(request, {"is_nav_sidebar_enabled": False, **(extra_context or {})})

    @admin.display(description="customer waiting", ordering="waiting_since")
    def waiting(self, obj):
        return timesince(obj.waiting_since, timezone.now()).split(",")[0] if obj.waiting_since else "-"

    @admin.display(description="Draft reply")
    def draft_link(self, obj):
        """The way from a conversation to its reply: without it an agent who came from "Awaiting reply" or a
        customer's other conversations had no way to the review page (approve, send again, write their own)."""
        draft = obj.drafts.order_by("-pk").values_list("pk", "status").first()  # one query
        if draft is None:
            return "No draft: the assistant wrote none (open the customer’s email below to see why)."
        label = ("Review the draft waiting for a decision" if draft[1] == Draft.Status.PENDING
                 else f"Open the latest draft ({Draft.Status(draft[1]).label.lower()})")
        return format_html('<a href="{}" id="conversation-draft">{}</a>',
                           reverse("admin:conversations_draft_change", args=[draft[0]]), label)

    @admin.action(description="Close the selected conversations", permissions=["change"])
    def close_conversations(self, request, queryset):
        ids = list(queryset.exclude(status=Conversation.Status.CLOSED).values_list("pk", flat=True))
        for conversation_id in ids:
            conversation_close(conversation_id=conversation_id, acting_user=request.user)
        self.message_user(request, f"Closed {len(ids)} conversation{'s' if len(ids) != 1 else ''}.", messages.SUCCESS)


@admin.register(Message)
class MessageAdmin(MessageReadingMixin, DeferredJoinAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["sent_at", "direction", "from_address", "subject", "triage_label", "conversation"]
    list_filter = ["direction", "triage_label"]
    search_fields = ["=external_msg_id", "from_address", "subject"]
    list_select_related = ["conversation"]


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


class DraftStatusFilter(SimpleListFilter):
    """The status filter, whose "All" really lists every draft.

    A bare queue URL opens on the pending drafts (changelist_view), so the stock "All" link (the URL
    without the parameter) led back to the pending ones: "All" carries `status__exact=all` instead.
    """

    title = "status"
    parameter_name = "status__exact"  # the name the links and the redirect already use

    def lookups(self, request, model_admin):
        return Draft.Status.choices

    def choices(self, changelist):
        choices = list(super().choices(changelist))
        choices[0].update(selected=self.value() in (None, "all"),
                          query_string=changelist.get_query_string({self.parameter_name: "all"}))
        return choices

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() in Draft.Status.values else queryset


class SendFilter(SimpleListFilter):
    title = "sending"
    parameter_name = "send"

    def lookups(self, request, model_admin):
        return [("failed", "Failed or interrupted sends"), ("waiting", "Approved, not sent yet")]

    def queryset(self, request, queryset):
        unsent = queryset.filter(status=Draft.Status.APPROVED, sent_message__isnull=True)
        if self.value() == "failed":
            return unsent.exclude(last_send_error="")
        if self.value() == "waiting":
            return unsent.filter(last_send_error="")
        return queryset


class ChannelFilter(SimpleListFilter):
    title = "channel"
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        return Conversation.Channel.choices

    def queryset(self, request, queryset):
        return queryset.filter(conversation__channel=self.value()) if self.value() else queryset


@admin.register(Draft)
class DraftAdmin(DraftDecisionViewsMixin, DeferredJoinAdminMixin, admin.ModelAdmin):
    """The draft queue (pending first, oldest first) and, per draft, the review page (its decisions
    and downloads are in conversations/admin_decisions.py)."""

    list_display = ["customer_email", "subject", "intent_label", "confidence_badge", "age", "reviewer", "status_text"]
    list_display_links = ["subject"]
    list_filter = [DraftStatusFilter, SendFilter, ConfidenceBucketFilter, NeedsPersonFilter, LanguageFilter, IntentFilter,
                   ChannelFilter]
    # What the customer wrote too: agents search for the words they remember from an email ("the blue lamp").
    search_fields = ["conversation__customer__email", "body", "conversation__subject", "reply_to__body"]
    ordering = ["waiting_since", "id"]  # the customer who has waited longest first
    list_per_page = 50

    class Media:
        css = {"all": ["conversations/queue.css"]}

    def changelist_rows(self, queryset):
        # The columns the queue shows come from one joined query per page, whatever the number of rows
        # (added to the page's rows only: the ids of a deep page are read without these joins).
        return queryset.annotate(
            customer_email_value=F("conversation__customer__email"), subject_value=F("conversation__subject"),
            channel_value=F("conversation__channel"), preview_value=Substr("reply_to__body", 1, 110),
            reviewer_value=Case(When(claimed_until__gt=timezone.now(), then=F("claimed_by__username")),
                                default=Value("")),
        )

    def changelist_view(self, request, extra_context=None):
        if not request.GET:  # the queue opens on what needs doing
            return HttpResponseRedirect(f"{request.path}?status__exact=pending")
        # The queue is the agents' whole screen: the app list would push its columns off 1280 px.
        return super().changelist_view(request, {"is_nav_sidebar_enabled": False, **(extra_context or {})})

    @admin.display(description="customer", ordering="conversation__customer__email")
    def customer_email(self, obj):
        return obj.customer_email_value or "-"

    @admin.display(description="subject", ordering="conversation__subject")
    def subject(self, obj):
        # The subject, and under it a line of what the customer wrote (the subject alone says little).
        preview = " ".join((obj.preview_value or "").split())
        return format_html('{}<div class="preview">{}</div>', obj.subject_value or "(no subject)", preview)

    @admin.display(description="reviewing", empty_value="")
    def reviewer(self, obj):
        return obj.reviewer_value or ""

    @admin.display(description="intent", ordering="intent")
    def intent_label(self, obj):
        return (obj.intent or "-").replace("_", " ")

    @admin.display(description="status", ordering="status")
    def status_text(self, obj):
        # "Approved, sending" read as if all was well for a reply whose send had failed: it says so instead.
        return draft_status_text(obj)

    @admin.display(description="channel")
    def channel(self, obj):
        return obj.channel_value

    @admin.display(description="confidence", ordering="confidence")
    def confidence_badge(self, obj):
        return f"{obj.confidence:.2f}" + (" ⚠" if obj.confidence < 0.5 else "")

    @admin.display(description="waiting", ordering="waiting_since")
    def age(self, obj):
        """How long the customer has waited for an answer (not how old the draft is)."""
        if obj.waiting_since is None:
            return "-"
        return timesince(obj.waiting_since, timezone.now()).split(",")[0]

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
            path("<int:draft_id>/close/", self.admin_site.admin_view(self.close_view), name="conversations_draft_close"),
            path("<int:draft_id>/attachment/<int:message_id>/<int:index>/",
                 self.admin_site.admin_view(self.attachment_view), name="conversations_draft_attachment"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        can_decide = request.user.has_perm("conversations.decide_draft")
        if can_decide and str(object_id).isdigit():
            draft_claim(draft_id=int(object_id), user=request.user)  # others now see who is on it
        try:
            context = review_context(int(object_id), user=request.user, load_images=request.GET.get("images") == "1")
        except (Draft.DoesNotExist, ValueError):
            raise Http404(f"draft {object_id} does not exist") from None
        if context["draft"].conversation.unread_count:
            # The agent has opened the thread: it is read (one update, only the first time).
            conversation_mark_read(conversation_id=context["draft"].conversation_id, acting_user=request.user)
        # No app list beside the review: the thread and the customer need the width (it fits 1280 px).
        context.update(self.admin_site.each_context(request), opts=self.model._meta, title=f"Review draft {object_id}",
                       can_decide=can_decide, is_nav_sidebar_enabled=False, **(extra_context or {}))
        response = TemplateResponse(request, "admin/conversations/draft/review.html", context)
        if context["load_images"]:
            response._csp_update = {"img-src": ["http:", "https:"]}  # the agent asked for the remote images
        return response


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["taken_at", "draft", "action", "approved_by"]
    list_filter = ["action"]
    list_select_related = ["draft", "approved_by"]
    show_full_result_count = False
