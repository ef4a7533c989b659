from __future__ import annotations

from django.conf import settings
from django.db import models

TRAILING_PUNCTUATION = " ?？¿!！.。…:;,·-"


def faq_question_key(question: str) -> str:
    """A question as compared for duplicates: case, spacing and the punctuation it ends with do not count
    ("Do you ship to Norway?" = "do you  ship to norway")."""
    return " ".join(question.casefold().split()).rstrip(TRAILING_PUNCTUATION).rstrip()


class FaqEntry(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    question = models.CharField(max_length=500)
    # faq_question_key(question), kept by save(): the database refuses a second open entry asking the same
    # question, even from two requests that both passed the service's check at once.
    question_key = models.CharField(max_length=500, blank=True, editable=False)
    answer = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    source_intent = models.CharField(max_length=40, blank=True, db_index=True)
    position = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "faq_entries"
        verbose_name_plural = "FAQ entries"
        ordering = ["position", "id"]
        permissions = [("publish_faqentry", "Can publish FAQ entries to the shop")]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=["draft", "published", "archived"]),
                                   name="faq_status_valid"),
            models.CheckConstraint(condition=~models.Q(status="published") | models.Q(published_at__isnull=False),
                                   name="faq_published_has_date"),
            models.UniqueConstraint(fields=["question_key"],
                                    condition=~models.Q(status="archived") & ~models.Q(question_key=""),
                                    name="faq_question_unique_open",
                                    violation_error_message="An FAQ entry already asks this question."),
        ]

    def __str__(self) -> str:
        return self.question

    def save(self, *args, **kwargs):
        # Derived from the question on every save, so no writer can leave it stale.
        self.question_key = faq_question_key(self.question)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "question" in update_fields:
            kwargs["update_fields"] = {*update_fields, "question_key"}
        super().save(*args, **kwargs)


class FaqPublication(models.Model):
    """What was last pushed to the shop's FAQ page, so an unchanged page is not pushed again."""

    shopify_page_id = models.CharField(max_length=32, blank=True)
    content_sha256 = models.CharField(max_length=64)
    blob_key = models.CharField(max_length=200, blank=True)
    entries_count = models.PositiveIntegerField(default=0)
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "faq_publications"
        ordering = ["-published_at"]

    def __str__(self) -> str:
        return f"FAQ page {self.shopify_page_id or '(not pushed)'} at {self.published_at:%Y-%m-%d %H:%M}"


class Correction(models.Model):
    """A curated fact that overrides what the assistant would otherwise say (mirrors corrections.yaml)."""

    key = models.SlugField(max_length=100, unique=True, help_text="Stable id used in corrections.yaml")
    pattern = models.CharField(max_length=500, help_text="Words or a phrase in the customer's message")
    answer = models.TextField()
    sources = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    last_verified = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "corrections"
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class FaqProposal(models.Model):
    """A question customers keep asking, with the answer agents sent, for Ops to publish or dismiss.

    Made and grown by `faq_proposals_refresh` (weekly, task `propose_faq`) from approved replies;
    each reply behind it is an observation. Its text is always scrubbed of customers' facts
    (omnichannel/pii_scrub.py): a proposal stores no one's name, address, order or tracking number,
    and its observations hold only ids. A dismissed proposal comes back (status `proposed`) once
    FAQ_RESURFACE_AFTER more observations have joined it since it was dismissed."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved (FAQ entry drafted)"
        PUBLISHED = "published", "Published"
        DISMISSED = "dismissed", "Dismissed"

    intent = models.CharField(max_length=40, db_index=True)
    question = models.CharField(max_length=500)
    answer = models.TextField(help_text="Composed from the agents' replies (edited ones first); Ops may edit it")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    source_count = models.PositiveIntegerField(default=0, help_text="Approved replies behind it")
    edited_count = models.PositiveIntegerField(default=0, help_text="Of those, replies an agent edited or wrote")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(help_text="When a customer last asked it")
    edited_by_ops = models.BooleanField(default=False, help_text="Ops changed the text: refreshes no longer rewrite it")
    dismissed_reason = models.TextField(blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_source_count = models.PositiveIntegerField(default=0, help_text="source_count when it was dismissed")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    faq_entry = models.OneToOneField(FaqEntry, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="proposal")
    approved_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "faq_proposals"
        ordering = ["-source_count", "-last_seen_at", "-id"]
        verbose_name = "FAQ proposal"
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=["proposed", "approved", "published", "dismissed"]),
                                   name="faq_proposal_status_valid"),
            models.CheckConstraint(condition=~models.Q(status="dismissed") | ~models.Q(dismissed_reason=""),
                                   name="faq_proposal_dismissed_has_reason"),
        ]
        indexes = [models.Index(fields=["status", "-source_count"], name="faq_proposal_queue_idx")]

    def __str__(self) -> str:
        return self.question


class FaqProposalObservation(models.Model):
    """One approved reply behind a proposal, and the inbound message it answered: ids and dates only,
    so an erasure has nothing to blank here (the message and the approval are blanked where they live)."""

    proposal = models.ForeignKey(FaqProposal, on_delete=models.CASCADE, related_name="observations")
    # Each reply counts once, in one proposal: a refresh never adds it twice.
    approval = models.OneToOneField("conversations.Approval", on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey("conversations.Message", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    conversation = models.ForeignKey("conversations.Conversation", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    edited = models.BooleanField(default=False, help_text="The agent edited or wrote the reply")
    seen_at = models.DateTimeField(help_text="When the customer asked")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "faq_proposal_observations"
        ordering = ["-seen_at", "-id"]
        indexes = [models.Index(fields=["proposal", "seen_at"], name="faq_observation_proposal_idx")]

    def __str__(self) -> str:
        return f"observation of proposal {self.proposal_id}: approval {self.approval_id}"
