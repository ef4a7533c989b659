"""Triaged mail in the admin: every email set apart is listed with its label, closed in one click,
handed back to drafting when triage was wrong; privacy requests are Ops' task, linked to the erasure."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils.html import escape

from assistants.services import draft_generate
from conversations.models import Conversation, Draft, Message
from customers.models import Customer
from omnichannel.models import AuditLog
from tests.builders import make_inbound_message, make_staff, page_queries

pytestmark = pytest.mark.django_db
TRIAGED = "/admin/conversations/triagedmessage/"
PRIVACY = "/admin/conversations/privacyrequest/"


def _user(group: str):
    return make_staff(group, f"{group.lower()}-triage")


@pytest.fixture
def agent_client(client):
    client.force_login(_user("Agents"))
    return client


@pytest.fixture
def ops_client(client):
    client.force_login(_user("Ops"))
    return client


def _triaged(email: str, subject: str, body: str) -> Message:
    """An email through triage as generate_draft would run it."""
    message = make_inbound_message(email=email, subject=subject, body=body)
    draft_generate(message_id=message.pk)
    message.refresh_from_db()
    return message


def _bounce(n: int = 0) -> Message:
    return _triaged(f"mailer-daemon@mx{n}.example.com", "Undelivered Mail Returned to Sender",
                    "This is the mail system at host mx.example.com. Your message could not be delivered.")


def _spam() -> Message:
    return _triaged("ryan@rankboost.example", "Quick question",
                    "I was checking your website and noticed it is not on the first page of Google. "
                    "Our SEO agency can help you rank your website. If you are not interested, reply STOP.")


def _privacy(email: str = "edsger.dijkstra@example.com") -> Message:
    return _triaged(email, "Request for erasure (GDPR)",
                    "Under Article 17 GDPR please delete my personal data and my customer account.")


def test_the_triaged_list_shows_each_label_and_reason_and_no_customer_mail(agent_client):
    bounce, spam, privacy = _bounce(), _spam(), _privacy()
    customer = make_inbound_message(email="ada@example.com", subject="Where is my tent?")
    draft_generate(message_id=customer.pk)
    response = agent_client.get(TRIAGED, follow=True)
    body = response.content.decode()
    assert "state=open" in response.redirect_chain[0][0]  # opens on what still needs doing
    for message, label in ((bounce, "Bounce"), (spam, "Spam or marketing"), (privacy, "Privacy request")):
        assert f"/{message.pk}/change/" in body and label in body and escape(message.triage_reason) in body
    assert f"/{customer.pk}/change/" not in body
    assert "Ops task" in body  # a privacy request is not the agents' to close
    filtered = agent_client.get(f"{TRIAGED}?state=open&label=bounce").content.decode()
    assert f"/{bounce.pk}/change/" in filtered and f"/{spam.pk}/change/" not in filtered
    page = agent_client.get(f"{TRIAGED}{bounce.pk}/change/")
    assert page.status_code == 200 and "Undelivered Mail Returned to Sender" in page.content.decode()


def test_the_triaged_list_runs_the_same_number_of_queries_for_3_and_30_emails(agent_client):
    for n in range(3):
        _bounce(n)
    few = page_queries(agent_client, f"{TRIAGED}?state=open")
    for n in range(3, 30):
        _bounce(n)
    assert page_queries(agent_client, f"{TRIAGED}?state=open") == few


def test_the_privacy_list_runs_the_same_number_of_queries_for_2_and_20_requests(ops_client):
    for n in range(2):
        _privacy(f"requester{n}@example.com")
    few = page_queries(ops_client, f"{PRIVACY}?state=open")
    for n in range(2, 20):
        _privacy(f"requester{n}@example.com")
    assert page_queries(ops_client, f"{PRIVACY}?state=open") == few


def test_one_click_closes_the_conversation_through_the_service(agent_client):
    bounce = _bounce()
    response = agent_client.post(f"{TRIAGED}{bounce.pk}/close/", HTTP_REFERER=f"http://testserver{TRIAGED}?state=open")
    assert response.status_code == 302 and response["Location"].endswith(f"{TRIAGED}?state=open")
    assert Conversation.objects.get(pk=bounce.conversation_id).status == Conversation.Status.CLOSED
    closed = AuditLog.objects.get(event_type="conversation.closed")
    assert closed.actor_user.username == "agents-triage" and closed.object_id == str(bounce.conversation_id)
    assert f"/{bounce.pk}/change/" not in agent_client.get(f"{TRIAGED}?state=open").content.decode()


def test_the_close_action_closes_the_selection_but_leaves_privacy_requests_to_ops(agent_client):
    bounce, spam, privacy = _bounce(), _spam(), _privacy()
    response = agent_client.post(f"{TRIAGED}?state=open", {"action": "close_conversations",
                                                          "_selected_action": [bounce.pk, spam.pk, privacy.pk]},
                                 follow=True)
    assert "Closed 2 conversation(s)." in response.content.decode()
    statuses = dict(Conversation.objects.values_list("pk", "status"))
    assert (statuses[bounce.conversation_id], statuses[spam.conversation_id]) == ("closed", "closed")
    assert statuses[privacy.conversation_id] == "open"
    assert agent_client.post(f"{TRIAGED}{privacy.pk}/close/").status_code == 302
    assert Conversation.objects.get(pk=privacy.conversation_id).status == "open"


def test_an_agent_hands_a_wrongly_triaged_email_back_to_drafting(agent_client, django_capture_on_commit_callbacks):
    spam = _spam()
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(f"{TRIAGED}?state=open", {"action": "draft_anyway", "_selected_action": [spam.pk]})
    spam.refresh_from_db()
    assert spam.triage_label == "customer"
    assert Draft.objects.get(reply_to=spam).status == Draft.Status.PENDING


def test_a_user_who_cannot_decide_drafts_cannot_close(client):
    viewer = get_user_model().objects.create_user(username="viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename="view_triagedmessage"))
    client.force_login(viewer)
    bounce = _bounce()
    assert client.post(f"{TRIAGED}{bounce.pk}/close/").status_code == 403
    assert Conversation.objects.get(pk=bounce.conversation_id).status == "open"


def test_agents_do_not_see_privacy_requests_or_reach_the_erasure(agent_client):
    privacy = _privacy()
    assert agent_client.get(f"{PRIVACY}?state=open").status_code == 403
    assert agent_client.post(f"{PRIVACY}{privacy.pk}/erase/").status_code == 403
    assert not Customer.objects.filter(is_erased=True).exists()


def test_ops_see_privacy_requests_and_erase_the_sender_after_confirming(ops_client):
    privacy, other = _privacy(), _privacy("grace.hopper@example.com")
    listing = ops_client.get(f"{PRIVACY}?state=open").content.decode()
    assert f"{PRIVACY}{privacy.pk}/erase/" in listing and "erasure request" in listing
    confirm = ops_client.get(f"{PRIVACY}{privacy.pk}/erase/").content.decode()
    assert "manage.py erase_customer edsger.dijkstra@example.com --yes" in confirm
    assert "Reply to the requester first" in confirm
    assert not Customer.objects.filter(is_erased=True).exists()  # nothing happens before the POST
    response = ops_client.post(f"{PRIVACY}{privacy.pk}/erase/", follow=True)
    assert escape("Erased the sender's personal data") in response.content.decode()
    privacy.refresh_from_db()
    assert privacy.is_erased and privacy.from_address.startswith("erased-") and privacy.headers == {}
    assert privacy.triage_label == "privacy_request"  # still counted, still listed as done
    assert Customer.objects.get(pk=privacy.conversation.customer_id).is_erased
    assert Conversation.objects.get(pk=privacy.conversation_id).status == "closed"
    erased = AuditLog.objects.get(event_type="customer.erased")
    assert erased.actor_user.username == "ops-triage"
    other.refresh_from_db()
    assert not other.is_erased  # only that sender
    closed_list = ops_client.get(f"{PRIVACY}?state=closed").content.decode()
    assert f"/{privacy.pk}/change/" in closed_list and "erased" in closed_list


def test_an_access_request_is_answered_with_the_export_not_only_offered_erasure(ops_client):
    """"Send me my data" is not "delete me": Ops are led to the customer's export from the list and from the
    page that would erase them, which used to point at a summary API instead."""
    access = _triaged("ada.lovelace@example.com", "my data",
                      "Hello, under the GDPR (Art. 15) please send me a copy of all personal data you hold about me.")
    erasure = _privacy()
    customer_page = f"/admin/customers/customer/{access.conversation.customer_id}/change/"
    listing = ops_client.get(f"{PRIVACY}?state=open").content.decode()
    assert "data access request" in listing and f"{customer_page}#export-data" in listing
    assert f"/admin/customers/customer/{erasure.conversation.customer_id}/change/#export-data" not in listing
    confirm = ops_client.get(f"{PRIVACY}{access.pk}/erase/").content.decode()
    assert "not an erasure request" in confirm and f"{customer_page}#export-data" in confirm
    assert "/api/customer_summary/" not in confirm
    assert 'id="export-data"' in ops_client.get(customer_page).content.decode()  # the button the link leads to
