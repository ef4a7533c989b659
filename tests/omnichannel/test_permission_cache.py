"""Permission sets are cached across requests, and any change of who holds what takes effect at once."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def _fresh(user):
    return get_user_model().objects.get(pk=user.pk)  # a new object per request, as in real requests


def _permission_queries(user, perm: str) -> tuple[bool, int]:
    with CaptureQueriesContext(connection) as queries:
        allowed = user.has_perm(perm)
    return allowed, sum("auth_permission" in q["sql"] for q in queries.captured_queries)


def test_a_second_request_reads_the_permission_set_from_the_cache():
    user = get_user_model().objects.create_user(username="cache-agent", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Agents"))
    assert _permission_queries(_fresh(user), "conversations.decide_draft") == (True, 2)
    assert _permission_queries(_fresh(user), "conversations.decide_draft") == (True, 0)


def test_joining_or_leaving_a_group_and_changing_a_groups_permissions_take_effect_at_once():
    user = get_user_model().objects.create_user(username="cache-ops", password="pw", is_staff=True)
    assert _fresh(user).has_perm("faq.change_correction") is False  # cached as "nothing"
    ops = Group.objects.get(name="Ops")
    user.groups.add(ops)
    assert _fresh(user).has_perm("faq.change_correction") is True
    ops.permissions.remove(Permission.objects.get(codename="change_correction"))
    assert _fresh(user).has_perm("faq.change_correction") is False
    user.groups.remove(ops)
    assert _fresh(user).has_perm("faq.view_correction") is False


def test_a_deactivated_user_has_no_permissions_whatever_was_cached():
    user = get_user_model().objects.create_user(username="cache-gone", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Agents"))
    assert _fresh(user).has_perm("conversations.decide_draft") is True
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)  # no signal: is_active is checked first
    assert _fresh(user).has_perm("conversations.decide_draft") is False
