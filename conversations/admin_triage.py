"""The admin of triaged mail: the agents' "Triaged emails" list and Ops' "Privacy requests".

Every inbound email that triage set apart (auto-reply, bounce, spam, privacy request) got no
draft, so it is listed here with its label and reason, never dropped silently. An agent closes
its conversation in one click (`conversation_close`) or hands it back to drafting when triage
was wrong (`message_triage_overrule`). A privacy request is Ops' task: their list (Agents do not
see it) links each one to the erasure of its sender (`customer_erase`, as `erase_customer` and
`POST /api/customers/<id>/erase/`). Every write goes through those services.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import SimpleListFilter
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme

from conversations.admin_reading import MessageReadingMixin
from conversations.models import NOT_DRAFTED, Conversation, Draft, Message, PrivacyRequest, TriagedMessage
from conversations.services.threads import conversation_close
from conversations.services.triage import message_triage_overrule
from customers.services_erasure import customer_erase
from omnichannel.admin import ReadOnlyAdminMixin
from omnichannel.errors import ApplicationError

_OPEN = [Conversation.Status.OPEN, Conversation.Status.WAITING]


class ConversationStateFilter(SimpleListFilter):
    title = "conversation"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open: to look at"), ("closed", "Closed")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(conversation__status__in=_OPEN)
        if self.value() == "closed":
            return queryset.filter(conversation__status=Conversation.Status.CLOSED)
        return queryset


class TriageLabelFilter(SimpleListFilter):
    title = "label"
    parameter_name = "label"

    def lookups(self, request, model_admin):
        return [(label.value, label.label) for label in NOT_DRAFTED]

    def queryset(self, request, queryset):
        return queryset.filter(triage_label=self.value()) if self.value() else queryset


class _TriagedAdmin(MessageReadingMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_filter = [ConversationStateFilter]
    search_fields = ["from_address", "subject"]
    ordering = ["-sent_at", "-id"]
    show_full_result_count = False
    list_per_page = 50
    labels: tuple = ()

    def get_queryset(self, request):
        # The columns come from one joined query (the partial index message_triaged_idx serves the filter).
        return (super().get_queryset(request)
                .filter(direction=Message.Direction.INBOUND, triage_label__in=self.labels)
                .annotate(conversation_status_value=F("conversation__status")))

    def changelist_view(self, request, extra_context=None):
        if not request.GET:  # the list opens on what still needs doing
            return HttpResponseRedirect(f"{request.path}?state=open")
        # No app list beside it, as in the draft queue: at 1280 px it pushed the Close buttons out of sight.
        return super().changelist_view(request, {"is_nav_sidebar_enabled": False, **(extra_context or {})})

    @admin.display(description="conversation", ordering="conversation__status")
    def conversation_status(self, obj):
        return Conversation.Status(obj.conversation_status_value).label

    @admin.display(description="received", ordering="sent_at")
    def received(self, obj):
        return obj.sent_at

    @admin.display(description="from", ordering="from_address")
    def sender(self, obj):
        return obj.from_address or "-"

    @admin.display(description="subject")
    def subject_text(self, obj):
        return obj.subject or "(no subject)"

    @staticmethod
    def _back(request, default: str) -> HttpResponseRedirect:
        """Back to the list the click came from, its filters kept."""
        referer = request.META.get("HTTP_REFERER", "")
        if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()},
                                                       require_https=request.is_secure()):
            return HttpResponseRedirect(referer)
        return HttpResponseRedirect(default)


@admin.register(TriagedMessage)
class TriagedMessageAdmin(_TriagedAdmin):
    """Auto-replies, bounces, spam and privacy requests: no draft, a label, a reason, one click to close."""

    list_display = ["received", "label", "why", "sender", "subject_text", "conversation_status", "close_button"]
    list_filter = [ConversationStateFilter, TriageLabelFilter]
    actions = ["close_conversations", "draft_anyway"]
    labels = NOT_DRAFTED

    @admin.display(description="why", ordering="triage_reason")
    def why(self, obj):
        return obj.triage_reason or "-"

    @admin.display(description="set aside as", ordering="triage_label")
    def label(self, obj):
        return Message.Triage(obj.triage_label).label

    @admin.display(description="")
    def close_button(self, obj):
        if obj.triage_label == Message.Triage.PRIVACY_REQUEST:
            return "Ops task"  # closed by Ops once the request is answered (Privacy requests)
        if obj.conversation_status_value == Conversation.Status.CLOSED:
            return ""
        # A submit button of the changelist's own form (its CSRF token included), posted to the close view.
        return format_html('<button type="submit" class="button" formaction="{}">Close</button>',
                           reverse("admin:conversations_triagedmessage_close", args=[obj.pk]))

    def has_decide_permission(self, request):
        return request.user.has_perm("conversations.decide_draft")

    def get_urls(self):
        return [path("<int:message_id>/close/", self.admin_site.admin_view(self.close_view),
                     name="conversations_triagedmessage_close"),
                path("<int:message_id>/draft/", self.admin_site.admin_view(self.draft_view),
                     name="conversations_triagedmessage_draft"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The email's page offers what the list does (the help text sent the agent back to the list's actions).
        return super().change_view(request, object_id, form_url, {
            "can_decide": self.has_decide_permission(request), **(extra_context or {})})

    def draft_view(self, request, message_id: int):
        """One email handed back to drafting from its own page; inline, its draft is there at once."""
        page = reverse("admin:conversations_triagedmessage_change", args=[message_id])
        if request.method != "POST":
            return HttpResponseRedirect(page)
        if not self.has_decide_permission(request):
            raise PermissionDenied
        if not self.get_queryset(request).filter(pk=message_id).exists():
            raise Http404(f"no triaged email {message_id}")
        try:
            message_triage_overrule(message_id=message_id, acting_user=request.user)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(page)
        self.message_user(request, "Sent back to drafting as a customer's email.", messages.SUCCESS)
        draft_id = (Draft.objects.filter(reply_to_id=message_id, status=Draft.Status.PENDING)
                    .values_list("pk", flat=True).first())
        if draft_id:
            return HttpResponseRedirect(reverse("admin:conversations_draft_change", args=[draft_id]))
        return HttpResponseRedirect(reverse("admin:conversations_triagedmessage_changelist") + "?state=open")

    def close_view(self, request, message_id: int):
        changelist = reverse("admin:conversations_triagedmessage_changelist") + "?state=open"
        if request.method != "POST":
            return HttpResponseRedirect(changelist)
        if not self.has_decide_permission(request):
            raise PermissionDenied
        message = self.get_queryset(request).filter(pk=message_id).first()
        if message is None:
            raise Http404(f"no triaged email {message_id}")
        if message.triage_label == Message.Triage.PRIVACY_REQUEST:
            self.message_user(request, "A privacy request is closed by Ops, from Privacy requests.", messages.ERROR)
            return self._back(request, changelist)
        conversation_close(conversation_id=message.conversation_id, acting_user=request.user)
        self.message_user(request, f"Closed the conversation of “{message.subject or message.from_address}”.",
                          messages.SUCCESS)
        return self._back(request, changelist)

    @admin.action(description="Close their conversations", permissions=["decide"])
    def close_conversations(self, request, queryset):
        conversations = set(queryset.exclude(triage_label=Message.Triage.PRIVACY_REQUEST)
                            .filter(conversation__status__in=_OPEN).values_list("conversation_id", flat=True))
        for conversation_id in sorted(conversations):  # in pk order, like every lock we take
            conversation_close(conversation_id=conversation_id, acting_user=request.user)
        self.message_user(request, f"Closed {len(conversations)} conversation(s).", messages.SUCCESS)
        if queryset.filter(triage_label=Message.Triage.PRIVACY_REQUEST).exists():
            self.message_user(request, "Privacy requests were left open: Ops close them from Privacy requests.",
                              messages.WARNING)

    @admin.action(description="Not triage: a customer's email, draft a reply", permissions=["decide"])
    def draft_anyway(self, request, queryset):
        done = 0
        for message_id in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                message_triage_overrule(message_id=message_id, acting_user=request.user)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        if done:
            self.message_user(request, f"{done} email(s) sent back to drafting: their drafts will be in the queue.",
                              messages.SUCCESS)


ACCESS_KIND = "data access request"  # assistants/triage.py's reason for "send me my data", lower case


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(_TriagedAdmin):
    """Ops' privacy requests (erasure or access): each links to the erasure of its sender."""

    list_display = ["received", "sender", "kind", "subject_text", "customer_link", "conversation_status", "erase_link"]
    list_select_related = ["conversation__customer"]
    labels = (Message.Triage.PRIVACY_REQUEST,)

    @admin.display(description="request")
    def kind(self, obj):
        # The reason starts with its kind ("Erasure request: …"); lower case, as the confirmation page compares it.
        return obj.triage_reason.split(":")[0].strip().lower() if obj.triage_reason else "privacy request"

    @admin.display(description="customer")
    def customer_link(self, obj):
        customer = obj.conversation.customer
        if customer is None:
            return "-"
        return format_html('<a href="{}">{}</a>', reverse("admin:customers_customer_change", args=[customer.pk]),
                           "erased" if customer.is_erased else customer.email)

    @admin.display(description="")
    def erase_link(self, obj):
        if obj.is_erased:
            return "erased"
        erase = format_html('<a class="button" href="{}">Erase the sender’s data…</a>',
                            reverse("admin:conversations_privacyrequest_erase", args=[obj.pk]))
        customer = obj.conversation.customer
        if self.kind(obj) != ACCESS_KIND or customer is None or customer.is_erased:
            return erase
        # An access request is answered with the export, made from the customer's page (Export their data).
        return format_html('<a class="button" href="{}#export-data">Export their data…</a> {}',
                           reverse("admin:customers_customer_change", args=[customer.pk]), erase)

    def get_urls(self):
        return [path("<int:message_id>/erase/", self.admin_site.admin_view(self.erase_view),
                     name="conversations_privacyrequest_erase"), *super().get_urls()]

    def erase_view(self, request, message_id: int):
        """A confirmation page (GET), then `customer_erase` of the sender and the conversation closed (POST)."""
        if not request.user.has_perm("conversations.erase_sender"):
            raise PermissionDenied
        message = (self.get_queryset(request).select_related("conversation__customer").filter(pk=message_id).first())
        if message is None:
            raise Http404(f"no privacy request {message_id}")
        changelist = reverse("admin:conversations_privacyrequest_changelist") + "?state=open"
        if message.is_erased:
            self.message_user(request, "This sender's data is erased already.", messages.WARNING)
            return HttpResponseRedirect(changelist)
        if request.method == "POST":
            try:
                report = customer_erase(email=message.from_address, acting_user=request.user)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return HttpResponseRedirect(changelist)
            conversation_close(conversation_id=message.conversation_id, acting_user=request.user)
            counts = report.counts_text()
            self.message_user(request, f"Erased the sender's personal data ({counts}) and closed the request.",
                              messages.SUCCESS)
            return HttpResponseRedirect(changelist)
        customer = message.conversation.customer
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "message": message,
                   "customer": customer, "title": "Erase a privacy requester's personal data",
                   "kind": self.kind(message), "access_kind": ACCESS_KIND}
        return TemplateResponse(request, "admin/conversations/privacyrequest/erase_confirm.html", context)
