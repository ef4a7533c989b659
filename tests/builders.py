"""Small builders for tests: realistic rows with sensible defaults, through the services."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from conversations.models import Message
from conversations.services.drafts import draft_create
from conversations.services.threads import MessageFacts, message_ingest
from customers.services import customer_get_or_create_lead

_seq = itertools.count(1)


def make_inbound_message(*, email: str = "ada@example.com", subject: str = "Where is my order?",
                         body: str = "Hi, where is my order #1001?", thread: str | None = None,
                         sent_at: datetime | None = None) -> Message:
    n = next(_seq)
    customer, _ = customer_get_or_create_lead(email=email, name="Ada Lovelace")
    message, _ = message_ingest(
        facts=MessageFacts(
            channel="email", direction="inbound", external_msg_id=f"test-msg-{n}",
            external_thread_id=thread or f"test-thread-{n}", rfc_message_id=f"<test-{n}@example.com>",
            from_address=email, subject=subject, body=body,
            sent_at=sent_at or datetime(2026, 11, 1, 9, 0, tzinfo=UTC) + timedelta(minutes=n),
        ),
        customer=customer, integration="test",
    )
    return message


def make_draft(*, body: str = "Hello Ada,\nYour order #1001 shipped.\nBest,\nDemo Shop", confidence: float = 0.8,
               intent: str = "order_status", message: Message | None = None):
    message = message or make_inbound_message()
    # A refresh: where the ingest's own generate_draft already ran (a transactional test), this one replaces it.
    return draft_create(conversation_id=message.conversation_id, body=body, confidence=confidence, intent=intent,
                        reply_to_id=message.pk, refresh=True)


def make_staff(group: str = "Agents", username: str | None = None, password: str = "pw"):  # noqa: S107 - test users
    """A staff user in one of the two roles (Agents, Ops), as `roles_sync` grants them."""
    user = get_user_model().objects.create_user(username=username or f"{group.lower()}-user", password=password,
                                                is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def logged_in_client(group: str = "Agents", username: str | None = None) -> Client:
    client = Client()
    client.force_login(make_staff(group, username))
    return client


def task_run_eagerly(task, *args, **kwargs):
    """A Celery task run in this process, its result returned (its exception raised). get() must not consult
    Celery's "would block" flag: the flag is process-wide and set while any other thread runs an eager task,
    so a plain .get() failed by test order ("Never call result.get() within a task")."""
    return task.apply(args, kwargs).get(disable_sync_subtasks=False)
