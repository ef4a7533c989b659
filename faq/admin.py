from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from faq.admin_forms import CorrectionForm, FaqEntryForm, duplicate_question_html
from faq.correction_candidates import correction_candidates, drafts_it_would_change_each
from faq.models import Correction, FaqEntry, FaqProposal, FaqProposalObservation, FaqPublication
from faq.services import (
    correction_candidate_accept,
    correction_delete,
    correction_upsert,
    faq_entry_create,
    faq_entry_delete,
    faq_entry_edit,
    faq_entry_publish,
    faq_entry_unpublish,
)
from faq.services_proposals import (
    faq_proposal_approve,
    faq_proposal_dismiss,
    faq_proposal_edit,
    faq_proposal_publish,
    faq_proposals_refresh,
    placeholders_in,
)
from omnichannel.admin import ReadOnlyAdminMixin, ServiceDeleteAdminMixin
from omnichannel.errors import ApplicationError

PUBLISH_PERMISSION = "faq.publish_faqentry"


@admin.register(FaqEntry)
class FaqEntryAdmin(ServiceDeleteAdminMixin, admin.ModelAdmin):
    """Every write goes through the services: creation (`faq_entry_create`), edits (`faq_entry_edit`),
    publishing (`faq_entry_publish`: audit row, page rebuild; it needs the publish permission, without
    which the status is read-only, so a plain edit can never publish) and deletion (`faq_entry_delete`:
    a published entry's page is rebuilt without it)."""

    form = FaqEntryForm
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
        if request.POST.get("post") != "yes":  # first, the list of what goes public, with Cancel
            return self._publish_confirmation(request, queryset)
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

    def _publish_confirmation(self, request, queryset):
        selected = list(queryset.order_by("position", "pk").only("pk", "question", "answer", "status"))
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": "Publish to the shop's FAQ page?",
            "selected": selected, "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "to_publish": [e for e in selected if e.status != FaqEntry.Status.PUBLISHED],
            "already": [e for e in selected if e.status == FaqEntry.Status.PUBLISHED],
            "changelist_url": request.get_full_path(),  # the list as the person left it (its filters kept)
        }
        return TemplateResponse(request, "admin/faq/faqentry/publish_selected_confirmation.html", context)

    def save_model(self, request, obj, form, change):
        # A status change made in the form is carried out by the services, never by a plain save.
        wanted = obj.status
        if "status" in form.changed_data:
            obj.status = FaqEntry.objects.get(pk=obj.pk).status if change else FaqEntry.Status.DRAFT
        try:
            if change:  # through the service: an edit of a published entry rebuilds the shop's page
                faq_entry_edit(entry_id=obj.pk, question=obj.question, answer=obj.answer,
                               source_intent=obj.source_intent, position=obj.position, acting_user=request.user)
            else:  # a draft first; the wanted status is then reached through the services below
                created = faq_entry_create(question=obj.question, answer=obj.answer, source_intent=obj.source_intent,
                                           position=obj.position, acting_user=request.user)
                obj.pk, obj.created_by, obj.created_at = created.pk, created.created_by, created.created_at
            if wanted == obj.status:
                return
            if wanted == FaqEntry.Status.PUBLISHED:
                entry = faq_entry_publish(entry_id=obj.pk, acting_user=request.user)
            else:
                entry = faq_entry_unpublish(entry_id=obj.pk, status=wanted, acting_user=request.user)
        except ApplicationError as exc:  # customer data in text for the public page: nothing of it was saved
            self.message_user(request, exc.message, level=messages.ERROR)
            request.faq_refused = True  # no "saved successfully" and no history row for what was not saved
            return
        obj.status, obj.published_at = entry.status, entry.published_at

    # A refusal the form could not foresee (an entry asking the same question saved a moment before, by
    # someone else): back to the form with the service's error, instead of a success message.
    def log_addition(self, request, obj, message):
        return None if getattr(request, "faq_refused", False) else super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        return None if getattr(request, "faq_refused", False) else super().log_change(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "faq_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if getattr(request, "faq_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def service_delete(self, pk: int, *, acting_user) -> None:
        faq_entry_delete(entry_id=pk, acting_user=acting_user)


@admin.register(Correction)
class CorrectionAdmin(ServiceDeleteAdminMixin, admin.ModelAdmin):
    """Saved and deleted through the services (`correction_upsert`, `correction_delete`), as the API does:
    an audit row, and the pending drafts the correction touches are drafted again (`apply_corrections`)."""

    form = CorrectionForm
    list_display = ["key", "pattern", "is_active", "last_verified", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["key", "pattern", "answer"]
    change_list_template = "admin/faq/correction/change_list.html"  # adds the "Correction candidates" link

    def get_readonly_fields(self, request, obj=None):
        # The key names the correction (corrections.yaml, the upsert): changing it would make another one.
        return [*super().get_readonly_fields(request, obj), *(["key"] if obj is not None else [])]

    def save_model(self, request, obj, form, change):
        correction, _ = correction_upsert(key=obj.key, pattern=obj.pattern, answer=obj.answer, sources=obj.sources,
                                          last_verified=obj.last_verified, is_active=obj.is_active,
                                          acting_user=request.user)
        obj.pk, obj.created_at, obj.updated_at = correction.pk, correction.created_at, correction.updated_at

    def service_delete(self, pk: int, *, acting_user) -> None:
        correction_delete(correction_id=pk, acting_user=acting_user)

    def get_urls(self):
        return [path("candidates/", self.admin_site.admin_view(self.candidates_view),
                     name="faq_correction_candidates"),
                path("candidates/accept/", self.admin_site.admin_view(require_POST(self.accept_candidate_view)),
                     name="faq_correction_candidate_accept"), *super().get_urls()]

    def accept_candidate_view(self, request):
        """One click: the candidate named by its (removed, added) pair becomes a correction, its text read
        again from the approvals (faq.services.correction_candidate_accept)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        back = reverse("admin:faq_correction_candidates")
        try:
            min_count = max(2, int(request.POST.get("min_count", "3")))
        except ValueError:
            min_count = 3
        try:
            correction = correction_candidate_accept(removed=request.POST.get("removed", ""),
                                                     added=request.POST.get("added", ""), min_count=min_count,
                                                     acting_user=request.user)
        except ApplicationError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return HttpResponseRedirect(f"{back}?min_count={min_count}")
        self.message_user(request, f"Correction \"{correction.key}\" created (pattern \"{correction.pattern}\"): "
                          "drafts built from now on say it, and the pending drafts it touches are drafted again.",
                          level=messages.SUCCESS)
        return HttpResponseRedirect(f"{back}?min_count={min_count}")

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
        candidates = correction_candidates(min_count=min_count)
        rows = [(candidate, f"{add_url}?" + urlencode({
            "key": candidate.suggested_key, "pattern": candidate.suggested_pattern,
            "answer": candidate.example_line or candidate.added}), would_change)
            for candidate, would_change in zip(candidates, drafts_it_would_change_each(candidates), strict=True)]
        approvals_url = reverse("admin:conversations_approval_changelist")
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "rows": rows,
                   "min_count": min_count, "approvals_url": approvals_url, "title": "Correction candidates"}
        return TemplateResponse(request, "admin/faq/correction/candidates.html", context)


@admin.register(FaqPublication)
class FaqPublicationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The record of each FAQ page published to the shop (faq_publication_record, by rebuild_faq_page)."""

    list_display = ["published_at", "shopify_page_id", "entries_count", "content_sha256"]
    readonly_fields = ["published_at", "shopify_page_id", "entries_count", "content_sha256", "blob_key"]




class ProposalReviewForm(forms.Form):
    question = forms.CharField(max_length=500, widget=forms.TextInput(attrs={"size": 90}))
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 8, "cols": 90}))
    reason = forms.CharField(required=False, max_length=2000, label="Why dismiss it",
                             widget=forms.Textarea(attrs={"rows": 2, "cols": 90}))


OBSERVATIONS_SHOWN = 50


@admin.register(FaqProposal)
class FaqProposalAdmin(admin.ModelAdmin):
    """Ops' review of FAQ proposals: each one's page shows the question, the suggested answer (editable)
    and the replies behind it (each linking to its conversation), with approve-and-publish or dismiss.
    Every decision goes through faq/services_proposals.py; publishing needs the publish permission,
    as for FAQ entries, and rebuilds the shop's FAQ page."""

    list_display = ["question", "intent", "status", "source_count", "edited_count", "last_seen_at"]
    list_filter = ["status", "intent"]
    search_fields = ["question", "answer"]
    change_list_template = "admin/faq/faqproposal/change_list.html"  # adds "Refresh proposals now"

    def has_add_permission(self, request):
        return False  # made by the refresh from agents' replies, never by hand

    def has_delete_permission(self, request, obj=None):
        return False  # dismissed instead, so the question does not come back as new

    def get_urls(self):
        return [path("refresh/", self.admin_site.admin_view(require_POST(self.refresh_view)),
                     name="faq_faqproposal_refresh"),
                path("<int:object_id>/decide/", self.admin_site.admin_view(require_POST(self.decide_view)),
                     name="faq_faqproposal_decide"),
                *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}),
                                                 "can_refresh": self.has_change_permission(request)})

    def refresh_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        report = faq_proposals_refresh(acting_user=request.user)
        if report.skipped:
            self.message_user(request, f"Nothing done: {report.skipped}.", level=messages.WARNING)
        else:
            self.message_user(request, f"{len(report.created)} new proposal(s), {report.observations} repl"
                              f"{'y' if report.observations == 1 else 'ies'} placed, {len(report.resurfaced)} "
                              f"dismissed proposal(s) back for review (grouped by {report.mode}).", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:faq_faqproposal_changelist"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        proposal = get_object_or_404(FaqProposal.objects.select_related("faq_entry", "decided_by"), pk=object_id)
        if not self.has_view_or_change_permission(request, proposal):
            raise PermissionDenied
        form = ProposalReviewForm(initial={"question": proposal.question, "answer": proposal.answer})
        return self._review(request, proposal, form)

    def _review(self, request, proposal: FaqProposal, form: ProposalReviewForm, status: int = 200):
        observations = list(proposal.observations.select_related("message", "conversation", "approval")
                            .order_by("-seen_at", "-id")[:OBSERVATIONS_SHOWN])
        can_change = self.has_change_permission(request, proposal)
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": proposal.question,
            "proposal": proposal, "form": form, "observations": observations,
            "can_change": can_change and proposal.status in (FaqProposal.Status.PROPOSED, FaqProposal.Status.APPROVED),
            "can_publish": can_change and request.user.has_perm(PUBLISH_PERMISSION)
            and proposal.status in (FaqProposal.Status.PROPOSED, FaqProposal.Status.APPROVED),
            "placeholders": placeholders_in(f"{proposal.question}\n{proposal.answer}"),
            "more": proposal.source_count - len(observations),
        }
        return TemplateResponse(request, "admin/faq/faqproposal/review.html", context, status=status)

    def decide_view(self, request, object_id):
        """One form, four buttons: save the text, approve (draft entry), approve and publish, dismiss."""
        proposal = get_object_or_404(FaqProposal, pk=object_id)
        decision = next((name for name in ("publish", "approve", "dismiss", "save") if f"_{name}" in request.POST), "save")
        if not self.has_change_permission(request, proposal):
            raise PermissionDenied
        if decision == "publish" and not request.user.has_perm(PUBLISH_PERMISSION):
            raise PermissionDenied
        form = ProposalReviewForm(request.POST)
        if not form.is_valid():
            return self._review(request, proposal, form, status=400)
        data, user = form.cleaned_data, request.user
        try:
            if decision == "publish":
                faq_proposal_publish(proposal_id=proposal.pk, question=data["question"], answer=data["answer"],
                                     acting_user=user)
                note = "Published: the shop's FAQ page is being rebuilt."
            elif decision == "approve":
                faq_proposal_approve(proposal_id=proposal.pk, question=data["question"], answer=data["answer"],
                                     acting_user=user)
                note = "Approved: its FAQ entry is drafted, not yet on the shop's page."
            elif decision == "dismiss":
                faq_proposal_dismiss(proposal_id=proposal.pk, reason=data["reason"], acting_user=user)
                note = "Dismissed: it comes back only if customers keep asking."
            else:
                faq_proposal_edit(proposal_id=proposal.pk, question=data["question"], answer=data["answer"],
                                  acting_user=user)
                note = "Saved."
        except ApplicationError as exc:  # nothing was changed: the page shows why, with Ops' text kept
            duplicate = exc.extra.get("duplicate_of")
            form.add_error("reason" if decision == "dismiss" else None,
                           duplicate_question_html(duplicate) if duplicate else exc.message)
            proposal.refresh_from_db()
            return self._review(request, proposal, form, status=exc.status_code)
        self.message_user(request, note, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:faq_faqproposal_change", args=[proposal.pk]))


@admin.register(FaqProposalObservation)
class FaqProposalObservationAdmin(admin.ModelAdmin):
    """The replies behind proposals, read only (a proposal's page lists its own)."""

    list_display = ["proposal", "approval", "conversation", "edited", "seen_at"]
    list_select_related = ["proposal", "approval", "conversation"]
    raw_id_fields = ["proposal", "approval", "message", "conversation"]
    readonly_fields = [f.name for f in FaqProposalObservation._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
