"""The queue's filters a team works by: what needs a person, the customer's language, triage labels.

The choices are fixed lists, not a SELECT DISTINCT over the table: the queue holds tens of
thousands of drafts, and a filter must not scan them all on every page view to list its choices.
Needs-a-person reasons and the language are what the drafter stored on the draft's model run
(`evaluation.reasons.needs_person`, `evaluation.language`); a draft with no model run (written by
an agent, or from before runs kept reasons) matches none of their choices.
"""

from __future__ import annotations

from django.contrib.admin import SimpleListFilter
from django.db.models import Exists, OuterRef

from conversations.models import NOT_DRAFTED, Message

# The topics the grounded drafter hands to a person (assistants/providers/grounded_*.py, `needs_person`).
# Others may appear (a topic named after the intent); "Something needs a person" finds every one.
NEEDS_PERSON_TOPICS = (
    "order status",
    "tracking",
    "delivery deadline",
    "delayed order",
    "refund status",
    "returns",
    "damaged item",
    "cancellation",
    "address change",
    "stock",
    "price",
    "wholesale",
    "privacy request",
    "empty email",
)
# The languages the drafter replies in, and "other" (replied to in English: assistants/language.py).
LANGUAGES = (
    ("en", "English"),
    ("de", "German"),
    ("es", "Spanish"),
    ("fr", "French"),
    ("other", "Other (replied in English)"),
)


class NeedsPersonFilter(SimpleListFilter):
    title = "needs a person"
    parameter_name = "person"

    def lookups(self, request, model_admin):
        return [
            ("any", "Something needs a person"),
            ("none", "Everything answered"),
            *[(topic, f"… {topic}") for topic in NEEDS_PERSON_TOPICS],
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        reasons = queryset.filter(model_run__evaluation__reasons__has_key="needs_person")
        if value == "any":
            return reasons.exclude(model_run__evaluation__reasons__needs_person=[])
        if value == "none":
            return reasons.filter(model_run__evaluation__reasons__needs_person=[])
        # jsonb containment: the list of topics holds this one.
        return queryset.filter(model_run__evaluation__reasons__needs_person__contains=[value])


class LanguageFilter(SimpleListFilter):
    title = "language"
    parameter_name = "lang"

    def lookups(self, request, model_admin):
        return list(LANGUAGES)

    def queryset(self, request, queryset):
        if self.value() not in dict(LANGUAGES):
            return queryset
        return queryset.filter(model_run__evaluation__language=self.value())


class ConversationTriageFilter(SimpleListFilter):
    """Conversations whose customer waits on an email triage set apart (an auto-reply, a bounce, spam,
    a privacy request): in the "Awaiting reply" view, the ones no draft will come for."""

    title = "triage label"
    parameter_name = "triage"

    def lookups(self, request, model_admin):
        return [(label.value, label.label) for label in NOT_DRAFTED]

    def queryset(self, request, queryset):
        if self.value() not in {label.value for label in NOT_DRAFTED}:
            return queryset
        # An inbound message the customer still waits on (sent since the wait began) carries the label.
        labelled = Message.objects.filter(
            conversation=OuterRef("pk"),
            direction=Message.Direction.INBOUND,
            triage_label=self.value(),
            sent_at__gte=OuterRef("waiting_since"),
        )
        return queryset.filter(Exists(labelled))
