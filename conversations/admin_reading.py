"""What agents read on the email and conversation pages of the admin, in their words.

The models' help texts are written for developers ("RFC 5322 Message-ID header", "KEPT_HEADERS",
"blob store"); these pages are read-only, so Django shows each field with its help text. The forms
below give the labels and help an agent needs, and the fieldsets leave out what only a developer
reads (provider ids, raw headers and payload): those stay in the database and the API.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

from conversations.models import Conversation, Message

MESSAGE_LABELS = {
    "conversation": "Conversation", "direction": "Direction", "from_name": "Sender's name", "from_address": "From",
    "to_addresses": "To", "cc_addresses": "Copy to", "subject": "Subject", "body": "Email text",
    "sent_at": "Date", "read_at": "Read", "triage_label": "Set aside as", "triage_reason": "Why",
    "triaged_at": "Set aside on",
}
MESSAGE_HELP = {
    "sent_at": "When the email was sent (a customer's) or when we replied (ours).",
    "body": "The email as text; the review page shows it as the customer saw it.",
    "triage_label": "Emails set aside get no draft reply. If this one is a real customer's email, use the action "
                    "“Not triage: a customer's email, draft a reply”.",
    "triage_reason": "What in the email made the assistant set it aside.",
}
CONVERSATION_LABELS = {
    "channel": "Channel", "subject": "Subject", "customer": "Customer", "status": "Status",
    "unread_count": "Unread emails", "last_message_at": "Last email", "closed_at": "Closed on",
    "waiting_since": "Customer waiting since", "is_archived": "Archived", "archived_at": "Archived on",
    "claimed_reply_to": "Claims to answer",
}
CONVERSATION_HELP = {
    "waiting_since": "The customer's oldest email we have not answered yet.",
    "is_archived": "Old and closed: the emails are stored away and the customer's personal details removed.",
    "claimed_reply_to": "The conversation this one's first email says it answers, although the sender was not part "
                        "of it. Kept apart on purpose: check before you join them.",
}


def _reading_form(model, labels: dict, help_texts: dict) -> type[forms.ModelForm]:
    return forms.modelform_factory(model, fields=list(labels), labels=labels,
                                   help_texts={name: help_texts.get(name, "") for name in labels})


MessageReadingForm = _reading_form(Message, MESSAGE_LABELS, MESSAGE_HELP)
ConversationReadingForm = _reading_form(Conversation, CONVERSATION_LABELS, CONVERSATION_HELP)


class MessageReadingMixin:
    """The read-only page of one email (Messages and Triaged emails)."""

    form = MessageReadingForm
    fieldsets = [
        (None, {"fields": ["conversation", "direction", "from_name", "from_address", "to_addresses", "cc_addresses",
                           "subject", "sent_at", "body", "attachment_names"]}),
        ("Why no draft was written", {"fields": ["triage_label", "triage_reason", "triaged_at"]}),
    ]
    readonly_fields = ["attachment_names"]

    @admin.display(description="Attachments")
    def attachment_names(self, obj):
        return ", ".join(a.get("name") or "(no name)" for a in obj.attachments if isinstance(a, dict)) or "-"


CONVERSATION_FIELDSETS = [
    (None, {"fields": ["subject", "customer", "channel", "status", "draft_link", "waiting_since", "last_message_at",
                       "unread_count",
                       "closed_at", "claimed_reply_to"]}),
    ("Archive", {"classes": ["collapse"], "fields": ["is_archived", "archived_at"]}),
]
