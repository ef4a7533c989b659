from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse

from faq.correction_candidates import correction_candidates
from faq.models import Correction, FaqEntry, FaqProposal, FaqProposalObservation, FaqPublication
from faq.services import faq_entry_edit, faq_entry_publish, faq_entry_unpublish
from omnichannel.errors import ApplicationError

PUBLISH_PERMISSION = "faq.publish_faqentry"


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin):
    """Publishing goes through `faq_entry_publish` (audit row, page rebuild) and needs the publish
    permission; without it the status is read-only, so a plain edit can never publish."""

    list_display = ["question", "status", "source_intent", "published_at", "updated_at"]
    list_filter = ["status", "source_intent"]
    search_fields = ["question", "answer"]
    readonly_fields = ["published_at", "created_at", "updated_at"]
    actions = ["publish_selected"]

    def has_publish_permission(self, request) -> bool:
        return request.user.has_perm(PUBLISH_PERMISSION)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if self.has_publish_permission(request) else [*fields, "status"]

    @admin.action(description="Publish selected FAQ entries to the shop", permissions=["publish"])
    def publish_selected(self, request, queryset):
        if not self.has_publish_permission(request):  # the action is hidden too; this guards a forged POST
            raise PermissionDenied
        published = already = 0
        for entry_id, status in queryset.order_by("pk").values_list("pk", "status"):
            if status == FaqEntry.Status.PUBLISHED:
                already += 1
                continue
            try:
                faq_entry_publish(entry_id=entry_id, acting_user=request.user)
            except ApplicationError as exc:  # it holds a customer's facts: the others still go out
                self.message_user(request, f"Entry {entry_id} not published: {exc.message}", level=messages.ERROR)
                continue
            published += 1
        note = f" ({already} already published)" if already else ""
        self.message_user(request, f"Published {published} FAQ entr{'y' if published == 1 else 'ies'}{note}; "
                                   "the shop's FAQ page is being rebuilt.", level=messages.SUCCESS)

    def save_model(self, request, obj, form, change):
        # A status change made in the form is carried out by the services, never by a plain save.
        wanted = obj.status
        if "status" in form.changed_data:
            obj.status = FaqEntry.objects.get(pk=obj.pk).status if change else FaqEntry.Status.DRAFT
        try:
            if change:  # through the service: an edit of a published entry rebuilds the shop's page
                faq_entry_edit(entry_id=obj.pk, question=obj.question, answer=obj.answer,
                               source_intent=obj.source_intent, position=obj.position, acting_user=request.user)
            else:
                super().save_model(request, obj, form, change)
            if wanted == obj.status:
                return
            if wanted == FaqEntry.Status.PUBLISHED:
                entry = faq_entry_publish(entry_id=obj.pk, acting_user=request.user)
            else:
                entry = faq_entry_unpublish(entry_id=obj.pk, status=wanted, acting_user=request.user)
        except ApplicationError as exc:  # customer data in text for the public page: nothing of it was saved
            self.message_user(request, exc.message, level=messages.ERROR)
            return
        obj.status, obj.published_at = entry.status, entry.published_at


@admin.register(Correction)
class CorrectionAdmin(admin.ModelAdmin):
    list_display = ["key", "pattern", "is_active", "last_verified", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["key", "pattern", "answer"]
    change_list_template = "admin/faq/correction/change_list.html"  # adds the "Correction candidates" link

    def get_urls(self):
        return [path("candidates/", self.admin_site.admin_view(self.candidates_view),
                     name="faq_correction_candidates"), *super().get_urls()]

    def candidates_view(self, request):
        """Edits agents keep making, for Ops to turn into corrections (a button pre-fills the add form)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        try:
            min_count = max(2, int(request.GET.get("min_count", "3")))
        except ValueError:
            self.message_user(request, "min_count must be a whole number; showing edits made 3 times or more.",
                              level=messages.WARNING)
            min_count = 3
        add_url = reverse("admin:faq_correction_add")
        rows = [(candidate, f"{add_url}?" + urlencode({
            "key": candidate.suggested_key, "pattern": candidate.suggested_pattern,
            "answer": candidate.example_line or candidate.added}))
            for candidate in correction_candidates(min_count=min_count)]
        approvals_url = reverse("admin:conversations_approval_changelist")
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "rows": rows,
                   "min_count": min_count, "approvals_url": approvals_url, "title": "Correction candidates"}
        return TemplateResponse(request, "admin/faq/correction/candidates.html", context)


@admin.register(FaqPublication)
class FaqPublicationAdmin(admin.ModelAdmin):
    list_display = ["published_at", "shopify_page_id", "entries_count", "content_sha256"]
    readonly_fields = ["published_at", "shopify_page_id", "entries_count", "content_sha256", "blob_key"]


@admin.register(FaqProposal)
class FaqProposalAdmin(admin.ModelAdmin):
    list_display = ["question", "intent", "status", "source_count", "edited_count", "last_seen_at"]
    list_filter = ["status", "intent"]
    readonly_fields = [f.name for f in FaqProposal._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(FaqProposalObservation)
class FaqProposalObservationAdmin(admin.ModelAdmin):
    list_display = ["proposal", "approval", "conversation", "edited", "seen_at"]
    readonly_fields = [f.name for f in FaqProposalObservation._meta.fields]

    def has_add_permission(self, request):
        return False
