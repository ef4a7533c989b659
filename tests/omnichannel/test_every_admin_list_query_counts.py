"""Every list of the admin runs a fixed number of queries, whatever the number of rows.

The lists are read from the admin site's registry, so a new ModelAdmin is asked too (and fails
until tests/list_rows.py can build its rows). Each list is asked by a superuser and by each role
(Agents, Ops) allowed to view it, over 2 rows and over 12: the two counts must be equal and equal to
the count pinned here, so a change shows in review. The usual 3 of every admin page are the
session, the user and their permissions. Deep pages and the workspace's filtered views are counted
in tests/conversations/test_workspace_query_counts.py.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from omnichannel.roles import AGENTS, OPS
from tests.builders import make_staff
from tests.list_rows import assert_fixed_queries

pytestmark = pytest.mark.django_db

# model label -> {who asks: queries, with 2 rows and with 12 alike}
EXPECTED: dict[str, dict[str, int]] = {
    "accounts.ApiToken": {"superuser": 5},
    "assistants.ModelRun": {"superuser": 7, AGENTS: 7, OPS: 7},
    "assistants.StyleProfile": {"superuser": 5, AGENTS: 5, OPS: 5},
    "auth.Group": {"superuser": 5},
    "auth.User": {"superuser": 6},
    "axes.AccessAttempt": {"superuser": 8},
    "axes.AccessFailureLog": {"superuser": 8},
    "axes.AccessLog": {"superuser": 8},
    "catalog.InventoryItem": {"superuser": 5, AGENTS: 5, OPS: 5},
    "catalog.ProductRequest": {"superuser": 5, AGENTS: 5, OPS: 5},
    "conversations.Approval": {"superuser": 4, AGENTS: 4, OPS: 4},
    "conversations.Conversation": {"superuser": 5, AGENTS: 5, OPS: 5},
    "conversations.Draft": {"superuser": 4, AGENTS: 4, OPS: 4},
    "conversations.Message": {"superuser": 5, AGENTS: 5, OPS: 5},
    "conversations.PrivacyRequest": {"superuser": 4, OPS: 4},
    "conversations.TriagedMessage": {"superuser": 4, AGENTS: 4, OPS: 4},
    "customers.Customer": {"superuser": 4, AGENTS: 4, OPS: 4},
    "customers.DataRequest": {"superuser": 5, OPS: 5},
    "customers.ErasureTombstone": {"superuser": 4, OPS: 4},
    "customers.Order": {"superuser": 6, AGENTS: 6, OPS: 6},
    "django_celery_beat.ClockedSchedule": {"superuser": 5},
    "django_celery_beat.CrontabSchedule": {"superuser": 5, OPS: 5},
    "django_celery_beat.IntervalSchedule": {"superuser": 5, OPS: 5},
    "django_celery_beat.PeriodicTask": {"superuser": 8, OPS: 8},
    "django_celery_beat.SolarSchedule": {"superuser": 5},
    "faq.Correction": {"superuser": 5, AGENTS: 5, OPS: 5},
    "faq.FaqEntry": {"superuser": 6, AGENTS: 6, OPS: 6},
    "faq.FaqProposal": {"superuser": 6, AGENTS: 6, OPS: 6},
    "faq.FaqProposalObservation": {"superuser": 5, OPS: 5},
    "faq.FaqPublication": {"superuser": 5, OPS: 5},
    "integrations.ShopifyCursor": {"superuser": 5, OPS: 5},
    "integrations.SiteDocument": {"superuser": 5, OPS: 5},
    "integrations.SiteSnapshot": {"superuser": 4, OPS: 4},
    "integrations.ZohoSyncState": {"superuser": 5, OPS: 5},
    "omnichannel.AuditLog": {"superuser": 8, OPS: 8},
    "omnichannel.DeadLetter": {"superuser": 7, OPS: 7},
    "omnichannel.WebhookDelivery": {"superuser": 5, OPS: 5},
    "otp_totp.TOTPDevice": {"superuser": 5},
}

LISTS = sorted(model._meta.label for model in admin.site._registry)


def _users() -> dict[str, object]:
    return {
        "superuser": get_user_model().objects.create_superuser(username="root", email="root@demo-shop.example"),
        AGENTS: make_staff(AGENTS, "grace"),
        OPS: make_staff(OPS, "olga"),
    }


def _changelist(label: str) -> str:
    model = next(m for m in admin.site._registry if m._meta.label == label)
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def _ask(client: Client, url: str) -> tuple[int, int]:
    """(queries, rows listed) of a second GET of the list (the first warms the session and permission
    caches and follows a redirect to the list's default filter)."""
    first = client.get(url, follow=True)
    assert first.status_code == 200, (url, first.status_code)
    if first.redirect_chain:
        url = first.redirect_chain[-1][0]
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured), response.context["cl"].result_count


@pytest.mark.parametrize("label", LISTS)
def test_every_admin_list_runs_a_fixed_number_of_queries_for_a_few_rows_and_for_many(label):
    model = next(m for m in admin.site._registry if m._meta.label == label)
    perm = f"{model._meta.app_label}.view_{model._meta.model_name}"
    clients = {}
    for who, user in _users().items():
        if user.has_perm(perm):
            clients[who] = Client()
            clients[who].force_login(user)
    assert_fixed_queries(label, label, clients, _changelist(label), _ask, EXPECTED)


def test_every_list_has_its_count_pinned_and_no_pin_is_left_over():
    assert sorted(EXPECTED) == LISTS
