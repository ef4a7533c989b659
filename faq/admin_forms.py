"""The FAQ admin's forms: each shows a faq service's refusal of the text as a form error, with what the
person typed kept (the service refuses it again when it saves)."""

from django import forms
from django.urls import reverse
from django.utils.html import format_html

from faq.models import Correction, FaqEntry
from faq.services import correction_check_text, faq_entry_check_duplicate, faq_entry_check_public
from omnichannel.errors import ApplicationError


def _refusal_as_form_error(check, **text) -> None:
    """A service's check of the text, its refusal shown as a form error (the text the person typed is kept)."""
    try:
        check(**text)
    except ApplicationError as exc:
        raise forms.ValidationError(exc.message) from None


def duplicate_question_html(existing: dict) -> str:
    """The duplicate-question refusal with a link to the entry that asks it (the faq service's `duplicate_of`)."""
    return format_html('This question is already asked by <a href="{}">FAQ entry {}: “{}”</a>. Edit that entry '
                       "instead of adding a second one.", reverse("admin:faq_faqentry_change", args=[existing["id"]]),
                       existing["id"], existing["question"])


class FaqEntryForm(forms.ModelForm):
    class Meta:
        model = FaqEntry
        fields = ["question", "answer", "status", "source_intent", "position", "created_by"]

    def clean_question(self):
        # The service's rule (shared with the API), shown on the field with a link to the entry that asks it.
        question = self.cleaned_data["question"]
        # An archived entry asks nothing on the page: it may share a question (the old answer, kept).
        status = self.data.get("status") if "status" in self.fields else self.instance.status
        if status == FaqEntry.Status.ARCHIVED:
            return question
        try:
            faq_entry_check_duplicate(question=question, exclude_id=self.instance.pk)
        except ApplicationError as exc:
            raise forms.ValidationError(duplicate_question_html(exc.extra["duplicate_of"]), code="duplicate") from None
        return question

    def clean(self):
        # Text for the shop's public page is checked here, so a refusal is a form error with the text kept.
        cleaned = super().clean()
        status = cleaned.get("status", self.instance.status)
        if status == FaqEntry.Status.PUBLISHED and cleaned.get("question") and cleaned.get("answer"):
            _refusal_as_form_error(faq_entry_check_public, question=cleaned["question"], answer=cleaned["answer"])
        return cleaned


class CorrectionForm(forms.ModelForm):
    class Meta:
        model = Correction
        fields = ["key", "pattern", "answer", "sources", "is_active", "last_verified"]

    def clean_sources(self):
        # Left empty (as a person would): no sources, not a null the column refuses.
        sources = self.cleaned_data.get("sources")
        if sources in (None, ""):
            return []
        if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            raise forms.ValidationError('Sources must be a list of texts, e.g. ["https://shop.example/returns", '
                                        '"ops decision 2026-10"], or empty.')
        return sources

    def clean(self):
        # Refused here too (correction_upsert refuses it), so Ops see a form error with their text kept.
        cleaned = super().clean()
        if cleaned.get("pattern") and cleaned.get("answer"):
            _refusal_as_form_error(correction_check_text, pattern=cleaned["pattern"], answer=cleaned["answer"])
        return cleaned
