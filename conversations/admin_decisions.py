"""The draft review page's actions: decide (approve, edit, reject, redraft, write), undo, close the
conversation, send again, and download an attachment.

A mixin of `DraftAdmin` (conversations/admin.py), which routes to these views from `get_urls`.
Every write goes through the owning service; a refused decision keeps the agent's text on the page.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse

from conversations.attachments import attachment_response
from conversations.context_processors import UNDO_SESSION_KEY, undo_offer_remember
from conversations.models import Draft, Message
from conversations.services.approvals import (
    draft_approve,
    draft_approve_text,
    draft_reject,
    draft_reject_and_redraft,
    draft_undo,
    draft_write_own,
)
from conversations.services.claims import draft_claim_next
from conversations.services.sending import draft_send_retry
from conversations.services.threads import conversation_close
from omnichannel.blobstore import blob_get
from omnichannel.errors import ApplicationError


class DraftDecisionViewsMixin:
    """The POST views of the review page (and the attachment download), for `DraftAdmin`."""

    def decide_view(self, request, draft_id: int):
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:conversations_draft_change", args=[draft_id]))
        if not request.user.has_perm("conversations.decide_draft"):
            raise PermissionDenied
        action = request.POST.get("action")
        if action == "undo":
            return self._undo(request, draft_id)
        text = request.POST.get("final_text", "").replace("\r\n", "\n")
        try:
            if action in ("approve", "edit") and "final_text" in request.POST:
                # What the agent sees in the box is what is sent (the service decides approve or edit).
                action = draft_approve_text(draft_id=draft_id, acting_user=request.user, final_text=text).action
            elif action == "approve":
                draft_approve(draft_id=draft_id, acting_user=request.user)
            elif action == "reject" and request.POST.get("redraft"):
                action = "redraft"
                draft_reject_and_redraft(draft_id=draft_id, acting_user=request.user,
                                         reason=request.POST.get("reason", ""))
            elif action == "reject":
                draft_reject(draft_id=draft_id, acting_user=request.user, reason=request.POST.get("reason", ""))
            elif action == "write":
                text = request.POST.get("own_text", "").replace("\r\n", "\n")
                draft_write_own(draft_id=draft_id, acting_user=request.user, text=text)
            else:
                raise ApplicationError(f"unknown action {action!r}")
        except ApplicationError as exc:
            return self._refused(request, draft_id, action, exc)
        verb = {"approve": "approved and queued for sending", "edit": "edited, approved and queued for sending",
                "reject": "rejected", "write": "replaced by your own reply, queued for sending",
                "redraft": "rejected; a new draft following your reason is on its way"}[action]
        self.message_user(request, f"Draft {draft_id} {verb}.", level=messages.SUCCESS)
        sending = (Draft.objects.filter(conversation__drafts__pk=draft_id, status=Draft.Status.APPROVED,
                                        send_after__isnull=False).order_by("-pk").values_list("pk", "send_after").first())
        if sending:
            undo_offer_remember(request, draft_id=sending[0], until=sending[1])
        if action == "redraft":
            redrafted = Draft.objects.filter(replaces_id=draft_id, status=Draft.Status.PENDING).values_list(
                "pk", flat=True).first()
            if redrafted:  # inline processing drafts at once: the agent reviews the redraft next
                return HttpResponseRedirect(reverse("admin:conversations_draft_change", args=[redrafted]))
        next_id = draft_claim_next(user=request.user, exclude_id=draft_id)
        if next_id:
            return HttpResponseRedirect(reverse("admin:conversations_draft_change", args=[next_id]))
        return HttpResponseRedirect(reverse("admin:conversations_draft_changelist") + "?status__exact=pending")

    def _refused(self, request, draft_id: int, action: str, exc: ApplicationError):
        """The server refused the decision: the page comes back with everything the agent typed (the reply
        box, the reason, their own reply) and the refusal beside the field it concerns, never a reload
        that drops the edits. The box text arrives with every decision form (the page copies it in)."""
        posted = request.POST
        # (An empty copy means the page's script did not run: the draft's text stands.)
        box = posted["final_text"] if "final_text" in posted else (posted.get("kept_final_text") or None)
        typed = {"final_text": box, "reason": posted.get("reason", ""),
                 "own_text": posted.get("own_text", posted.get("kept_own_text", ""))}
        typed = {k: (v or "").replace("\r\n", "\n") for k, v in typed.items() if v is not None}
        draft = Draft.objects.filter(pk=draft_id).only("status", "body").first()
        if draft is None:
            self.message_user(request, exc.message, level=messages.ERROR)
            return HttpResponseRedirect(reverse("admin:conversations_draft_changelist") + "?status__exact=pending")
        if draft.status == Draft.Status.PENDING:
            field = {"reject": "reason", "redraft": "reason", "write": "own_text"}.get(action, "final_text")
            context = {"decision_error": exc.message, "error_field": field, "typed_reason": typed.get("reason", ""),
                       "typed_own_text": typed.get("own_text", "")}
            if "final_text" in typed:
                context["typed_final_text"] = typed["final_text"]
            response = self.change_view(request, str(draft_id), extra_context=context)
            response.status_code = 400
            return response
        # Decided meanwhile (another agent won): what this agent wrote stays on the page to copy, beside
        # the winner's decision. Their own reply counts first: it is what they meant to send.
        lost = typed.get("own_text", "") if action == "write" else typed.get("final_text", "")
        if not lost.strip() or (action != "write" and lost.strip() == draft.body.strip()):
            lost = typed.get("own_text", "")
        response = self.change_view(request, str(draft_id), extra_context={
            "lost_text": lost if lost.strip() else "", "decision_error": exc.message, "error_field": "lost"})
        response.status_code = 409
        return response

    def _undo(self, request, draft_id: int):
        request.session.pop(UNDO_SESSION_KEY, None)
        try:
            pending = draft_undo(draft_id=draft_id, acting_user=request.user)
        except ApplicationError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return HttpResponseRedirect(reverse("admin:conversations_draft_change", args=[draft_id]))
        if pending is None:
            self.message_user(request, f"Draft {draft_id} undone: nothing was sent. The customer has written again, "
                              "so the newer draft is the one to review.", level=messages.WARNING)
            return HttpResponseRedirect(reverse("admin:conversations_draft_changelist") + "?status__exact=pending")
        self.message_user(request, f"Draft {draft_id} undone: nothing was sent. It is back in review.",
                          level=messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:conversations_draft_change", args=[pending.pk]))

    def close_view(self, request, draft_id: int):
        """Close the draft's conversation (nothing more to say); a new customer message reopens it."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:conversations_draft_change", args=[draft_id]))
        if not request.user.has_perm("conversations.decide_draft"):
            raise PermissionDenied
        conversation_id = Draft.objects.values_list("conversation_id", flat=True).filter(pk=draft_id).first()
        if conversation_id is None:
            raise Http404(f"draft {draft_id} does not exist")
        conversation_close(conversation_id=conversation_id, acting_user=request.user)
        self.message_user(request, f"Conversation {conversation_id} closed.", level=messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:conversations_draft_change", args=[draft_id]))

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
        return attachment_response(data=blob_get(attachment["blob_key"]), name=attachment.get("name"))
