"""Small builders for tests: realistic rows with sensible defaults, through the services."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from io import StringIO

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from accounts.services import api_token_create
from assistants.context import email_in
from assistants.services import draft_compose
from conversations.models import Message
from conversations.services.drafts import draft_create
from conversations.services.threads import MessageFacts, message_ingest
from customers.services import customer_get_or_create_lead
from omnichannel.blobstore import blob_put

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


def draft_for_email(sender: str, body: str, subject: str = "question"):
    """The draft the assistant composes for an email, without storing anything (draft_compose)."""
    return draft_compose(email=email_in(from_address=sender, subject=subject, body=body))


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


def webhook_signature(secret: str, body: bytes) -> str:
    """The signature Zoho (X-Hook-Signature) and Shopify (X-Shopify-Hmac-Sha256) send: base64 of the body's
    HMAC-SHA256 under the webhook secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def zoho_email(n: int, *, sender: str, first_id: int, **fields) -> dict:
    """A Zoho webhook's message payload: the `n`th email of a test (ids from `first_id`, a minute apart)
    from `sender` to our support address; `fields` add or override Zoho's keys."""
    return {"messageId": first_id + n, "folderId": "inbox", "subject": "Where is my order?", "fromAddress": sender,
            "toAddress": "&lt;support@demo-shop.example&gt;", "receivedTime": str(first_id // 1_000_000 + n * 60_000),
            "hasAttachment": "0", "html": f"<p>Message {n}</p>", **fields}


def zoho_deliver(client: Client, capture, payload: dict, *, secret: str) -> Message:
    """POST the payload to the Zoho webhook, signed with `secret`, running the on-commit work it queues
    (`capture`: pytest-django's django_capture_on_commit_callbacks); the message it made."""
    raw = json.dumps(payload).encode()
    with capture(execute=True):
        response = client.post("/webhooks/zoho/", data=raw, content_type="application/json",
                               HTTP_X_HOOK_SIGNATURE=webhook_signature(secret, raw))
    assert response.status_code == 200, response.content
    return Message.objects.get(external_msg_id=str(payload["messageId"]))


def shopify_deliver(client: Client, topic: str, payload: dict, *, secret: str):
    """POST the payload to the Shopify webhook as `topic`, signed with `secret`, with a fresh webhook id."""
    body = json.dumps(payload).encode()
    return client.post("/webhooks/shopify/", data=body, content_type="application/json", headers={
        "X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Hmac-Sha256": webhook_signature(secret, body), "X-Shopify-Shop-Domain": "demo-shop.myshopify.com"})


def blob_put_racing(data: bytes, *, writers: int) -> list[str]:
    """`writers` threads put the same bytes at the same moment (a barrier): the key each was given."""
    barrier = threading.Barrier(writers)
    keys = []

    def put():
        barrier.wait()
        keys.append(blob_put(data).key)

    threads = [threading.Thread(target=put) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return keys


def other_connection():
    """A second, plain psycopg connection to the test database: one side of a race the test holds open."""
    import psycopg  # Postgres-only tests use it

    db = connection.settings_dict
    return psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"] or None,
                           dbname=db["NAME"])


def in_thread(fn) -> tuple[threading.Thread, dict]:
    """Run `fn` in a thread with its own Django connection; its result or exception lands in the dict."""
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - looked at in the test's own thread
            outcome["error"] = exc
        finally:
            connection.close()  # this thread's own Django connection

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def token_client(group: str | None, username: str, *, password: str | None = "pw") -> tuple[APIClient, object]:  # noqa: S107
    """A user in `group` (None: no role) and an API client that sends a fresh token of theirs."""
    user = get_user_model().objects.create_user(username=username, password=password)
    if group:
        user.groups.add(Group.objects.get(name=group))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user)[1]}")
    return client, user


def page_queries(client: Client, url: str) -> int:
    """The SQL queries a second GET of `url` runs: the steady state (the first request of a session also
    loads the user's permission set into the cache)."""
    assert client.get(url).status_code == 200
    executed = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        assert client.get(url).status_code == 200
    assert executed, "no queries were seen: the counter is broken"
    return len(executed)


def draft_reply_json(tmp_path, *args: str, body: str) -> dict:
    """`manage.py draft_reply --json` on an email whose body is `body` (written to a file under `tmp_path`),
    with the other options in `args`: the JSON it prints."""
    path = tmp_path / "email.txt"
    path.write_text(body)
    out = StringIO()
    call_command("draft_reply", "--body-file", str(path), "--json", *args, stdout=out)
    return json.loads(out.getvalue())
