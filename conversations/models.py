from __future__ import annotations

from django.conf import settings
from django.db import models

from omnichannel.append_only import AppendOnlyModel

# The intents a draft can carry (the assistant classifies into exactly these: assistants/intents.py).
# Kept here, with the Draft that stores them, so the admin filters by them without importing assistants.
DRAFT_INTENTS = ("order_status", "availability", "returns_refunds", "address_change", "product_request", "general")

# The RFC headers kept on an inbound message (lower-case names): the ones triage reads to tell an
# auto-reply (RFC 3834 Auto-Submitted, X-Autoreply, Precedence) or a bounce (an RFC 3464 delivery
# report, X-Failed-Recipients) or bulk mail (List-Unsubscribe) from a customer's email. Only these:
# the rest (Received, DKIM, ...) is in the provider's raw message, not worth a copy per row.
KEPT_HEADERS = ("auto-submitted", "x-autoreply", "x-autorespond", "x-autoresponder", "precedence", "content-type",
                "x-failed-recipients", "list-unsubscribe", "list-id")


class Conversation(models.Model):
    """One email thread or chat session."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        CHAT = "chat", "Chat"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        WAITING = "waiting", "Waiting on customer"
        CLOSED = "closed", "Closed"

    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.EMAIL)
    external_thread_id = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="conversations")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    unread_count = models.PositiveIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    waiting_since = models.DateTimeField(null=True, blank=True,
                                         help_text="The oldest customer message we have not answered yet")
    is_archived = models.BooleanField(default=False, help_text="Exported to the blob store and PII erased")
    archived_at = models.DateTimeField(null=True, blank=True)
    archive_blob_key = models.CharField(max_length=200, blank=True)
    claimed_reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The conversation this one's first email claimed to answer (In-Reply-To, References or Zoho's "
                  "thread) although its sender takes no part in it: kept apart, shown on the review page")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "conversations"
        ordering = ["-last_message_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_thread_id"],
                                    condition=~models.Q(external_thread_id=""), name="conversation_unique_thread"),
            models.CheckConstraint(condition=models.Q(channel__in=["email", "chat"]), name="conversation_channel_valid"),
            models.CheckConstraint(condition=models.Q(status__in=["open", "waiting", "closed"]),
                                   name="conversation_status_valid"),
        ]
        indexes = [
            models.Index(fields=["customer", "-last_message_at"], name="conversation_customer_idx"),
            models.Index(fields=["status", "closed_at"], name="conversation_status_idx"),
            models.Index(fields=["status", "waiting_since"], name="conversation_waiting_idx"),
        ]

    def __str__(self) -> str:
        return self.subject or f"conversation {self.pk}"


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class Triage(models.TextChoices):
        """What an inbound email is, decided before drafting (assistants/triage.py): only a customer's
        email gets a draft; the others wait in the admin's "Triaged emails" list."""

        CUSTOMER = "customer", "Customer email"
        AUTO_REPLY = "auto_reply", "Auto-reply"
        BOUNCE = "bounce", "Bounce"
        SPAM = "spam", "Spam or marketing"
        PRIVACY_REQUEST = "privacy_request", "Privacy request"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    external_msg_id = models.CharField(max_length=200, blank=True, help_text="The provider's message id (string)")
    rfc_message_id = models.CharField(max_length=500, blank=True, help_text="RFC 5322 Message-ID header")
    in_reply_to = models.CharField(max_length=500, blank=True)
    references = models.TextField(blank=True)
    from_address = models.EmailField(max_length=254, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    to_addresses = models.JSONField(default=list, blank=True)
    cc_addresses = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    body = models.TextField(blank=True, help_text="Plain text")
    body_html = models.TextField(blank=True, help_text="Sanitized HTML (never the raw HTML)")
    attachments = models.JSONField(default=list, blank=True, help_text="[{name, content_type, size, blob_key}]")
    raw_payload = models.JSONField(default=dict, blank=True, help_text="The provider's payload, for replays")
    sent_at = models.DateTimeField(help_text="When the message was sent or received, per the provider")
    read_at = models.DateTimeField(null=True, blank=True)
    is_erased = models.BooleanField(default=False)
    draft_failures = models.PositiveSmallIntegerField(  # db_default: rows written by raw SQL (bench loaders) too
        default=0, db_default=0,
        help_text="generate_draft runs that failed for good for it (the ensure_drafts sweep gives up at 3)")
    headers = models.JSONField(default=dict, blank=True,
                               help_text="The RFC headers triage reads (KEPT_HEADERS), lower-case names")
    triage_label = models.CharField(max_length=20, choices=Triage.choices, blank=True,
                                    help_text="Empty until the message is triaged (inbound only)")
    triage_reason = models.CharField(max_length=500, blank=True, help_text="Which rule decided the label")
    triaged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "messages"
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["external_msg_id"], condition=~models.Q(external_msg_id=""),
                                    name="message_unique_external_id"),
            models.CheckConstraint(condition=models.Q(direction__in=["inbound", "outbound"]),
                                   name="message_direction_valid"),
            models.CheckConstraint(
                condition=models.Q(triage_label__in=["", "customer", "auto_reply", "bounce", "spam", "privacy_request"]),
                name="message_triage_label_valid"),
        ]
        indexes = [
            models.Index(fields=["conversation", "sent_at"], name="message_thread_idx"),
            models.Index(fields=["rfc_message_id"], name="message_rfc_id_idx"),
            # The "Triaged emails" list: a few rows among every message ever received.
            models.Index(fields=["-sent_at"], name="message_triaged_idx",
                         condition=models.Q(triage_label__in=["auto_reply", "bounce", "spam", "privacy_request"])),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.subject or self.pk}"


# The labels that get no draft (everything triage sets apart from a customer's email).
NOT_DRAFTED = (Message.Triage.AUTO_REPLY, Message.Triage.BOUNCE, Message.Triage.SPAM, Message.Triage.PRIVACY_REQUEST)


class TriagedMessage(Message):
    """The admin's "Triaged emails" list: inbound mail that got no draft (auto-replies, bounces, spam,
    privacy requests), each with its label and reason, to close or to hand back to drafting."""

    class Meta:
        proxy = True
        verbose_name = "triaged email"


class PrivacyRequest(Message):
    """Ops' task list of privacy requests (erasure or access), each linking to the erasure of its sender."""

    class Meta:
        proxy = True
        permissions = [("erase_sender", "Can erase the personal data of a privacy request's sender")]


class Draft(models.Model):
    """A reply the assistant proposes; an agent approves, edits or rejects it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending review"
        APPROVED = "approved", "Approved, sending"
        SENT = "sent", "Sent"
        SUPERSEDED = "superseded", "Superseded"
        REJECTED = "rejected", "Rejected"
        UNDONE = "undone", "Undone, back in review"

    class Origin(models.TextChoices):
        ASSISTANT = "assistant", "Drafted by the assistant"
        AGENT = "agent", "Written by an agent"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="drafts")
    reply_to = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="drafts",
                                 help_text="The inbound message this draft answers")
    model_run = models.ForeignKey("assistants.ModelRun", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="drafts")
    body = models.TextField()
    confidence = models.FloatField()
    intent = models.CharField(max_length=40, blank=True, db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    corrections_applied = models.ManyToManyField("faq.Correction", blank=True, related_name="drafts")
    sent_message = models.OneToOneField(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    send_attempts = models.PositiveIntegerField(default=0)
    sending_started_at = models.DateTimeField(null=True, blank=True,
                                              help_text="Set while a worker sends it: the claim that prevents a double send")
    last_send_error = models.TextField(blank=True)
    send_stopped = models.BooleanField(
        default=False, db_default=False,
        help_text="No machine sends it again: refused for good, or a try may have reached Zoho. "
                  "Only an agent's Send again clears it")
    send_lease_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="While sending: until when its worker is known alive (renewed by heartbeat)")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    send_after = models.DateTimeField(null=True, blank=True,
                                      help_text="End of the undo window: no send before this time")
    origin = models.CharField(max_length=20, choices=Origin.choices, default=Origin.ASSISTANT)
    replaces = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 help_text="The draft this one takes over from (an undone approval)")
    waiting_since = models.DateTimeField(null=True, blank=True,
                                         help_text="Since when the customer has waited (the queue's order)")
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", help_text="The agent reviewing it now (a soft claim)")
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "drafts"
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(confidence__gte=0) & models.Q(confidence__lte=1),
                                   name="draft_confidence_range"),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "approved", "sent", "superseded", "rejected", "undone"]),
                name="draft_status_valid",
            ),
            # At most one draft per conversation waits for review: a new one supersedes the old.
            models.UniqueConstraint(fields=["conversation"], condition=models.Q(status="pending"),
                                    name="draft_one_pending_per_conversation"),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="draft_queue_idx"),
            models.Index(fields=["status", "waiting_since", "id"], name="draft_wait_queue_idx"),
        ]
        permissions = [("decide_draft", "Can approve, edit or reject drafts")]

    def __str__(self) -> str:
        return f"draft {self.pk} ({self.status})"


class Approval(AppendOnlyModel):
    """An agent's decision on a draft: immutable history the assistant learns from."""

    class Action(models.TextChoices):
        APPROVE = "approve", "Approved as is"
        EDIT = "edit", "Edited and approved"
        REJECT = "reject", "Rejected"
        WRITTEN = "written", "Written by the agent"

    draft = models.ForeignKey(Draft, on_delete=models.PROTECT, related_name="approvals")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approvals")
    action = models.CharField(max_length=10, choices=Action.choices)
    final_text = models.TextField(blank=True)
    diff = models.TextField(blank=True, help_text="Unified diff from the draft to the final text")
    reason = models.TextField(blank=True)
    taken_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "approvals"
        ordering = ["-taken_at"]
        constraints = [
            # One decision per draft: two agents clicking at once cannot both win.
            models.UniqueConstraint(fields=["draft"], name="approval_one_decision_per_draft"),
            models.CheckConstraint(condition=models.Q(action__in=["approve", "edit", "reject", "written"]),
                                   name="approval_action_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.action} of draft {self.draft_id}"
