"""Triage outcomes on inbound messages: recorded by the assistant, overruled by an agent.

The assistant decides the label (assistants/triage.py) and records it here; a message triaged as
anything but a customer's email gets no draft and waits in the admin's "Triaged emails" list,
where an agent closes its conversation (`threads.conversation_close`) or hands it back to
drafting (`message_triage_overrule`).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from conversations.models import Message
from omnichannel.audit import audit_log_write
from omnichannel.errors import ApplicationError
from omnichannel.jobs import enqueue
from omnichannel.task_names import TaskName

OVERRULED_REASON = "an agent marked it as a customer's email"


@transaction.atomic
def message_triage_record(*, message_id: int, label: str, reason: str) -> Message:
    """Store the assistant's triage of one inbound message, once: a message already triaged keeps its
    label (two drafting workers racing, or an agent's overrule that a later run must not undo)."""
    if label not in Message.Triage.values:
        raise ValueError(f"unknown triage label {label!r}")
    message = Message.objects.select_for_update().get(pk=message_id)
    if message.triage_label:
        return message
    message.triage_label, message.triage_reason, message.triaged_at = label, reason[:500], timezone.now()
    message.save(update_fields=["triage_label", "triage_reason", "triaged_at"])
    audit_log_write(event_type="message.triaged", integration="assistant", obj=message,
                    payload={"conversation_id": message.conversation_id, "label": label, "reason": message.triage_reason})
    return message


@transaction.atomic
def message_triage_overrule(*, message_id: int, acting_user) -> Message:
    """An agent says a triaged email is a customer's after all: it is drafted like any other (after commit)."""
    message = Message.objects.select_for_update().get(pk=message_id)
    if message.direction != Message.Direction.INBOUND or message.is_erased:
        raise ApplicationError(f"message {message_id} is not an inbound email that can be drafted")
    if message.triage_label == Message.Triage.CUSTOMER:
        return message
    previous = message.triage_label
    message.triage_label, message.triage_reason, message.triaged_at = (
        Message.Triage.CUSTOMER, OVERRULED_REASON, timezone.now())
    message.save(update_fields=["triage_label", "triage_reason", "triaged_at"])
    audit_log_write(event_type="message.triage_overruled", acting_user=acting_user, obj=message,
                    payload={"conversation_id": message.conversation_id, "previous_label": previous})
    enqueue(TaskName.GENERATE_DRAFT, message.pk)
    return message
