"""Password guessing on the admin login is throttled (issue item 8): django-axes, keyed on username + IP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff():
    users = get_user_model().objects
    return (users.create_user(username="ada-agent", password=PASSWORD, is_staff=True),
            users.create_user(username="bob-agent", password=PASSWORD, is_staff=True))


def login(client, username: str, password: str, ip: str = "198.51.100.7"):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password,
                                                      "next": "/admin/"}, REMOTE_ADDR=ip)


def test_six_wrong_passwords_lock_the_account_from_that_address_for_the_cool_off(client, staff, settings):
    assert settings.AXES_FAILURE_LIMIT == 5 and settings.AXES_COOLOFF_TIME == timedelta(minutes=15)
    for _ in range(6):
        assert login(client, "ada-agent", "guess").status_code in (200, 429)
    refused = login(client, "ada-agent", PASSWORD)
    assert refused.status_code == 429 and "_auth_user_id" not in client.session

    # Another user from the same address, and the same user from another address, are not locked.
    assert login(client, "bob-agent", PASSWORD).status_code == 302
    client.logout()
    assert login(client, "ada-agent", PASSWORD, ip="203.0.113.9").status_code == 302
    client.logout()

    # After the cool-off the right password works again from the first address.
    from axes.models import AccessAttempt

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert login(client, "ada-agent", PASSWORD).status_code == 302


def test_a_few_wrong_passwords_do_not_lock_anyone(client, staff):
    for _ in range(4):
        assert login(client, "ada-agent", "guess").status_code == 200
    assert login(client, "ada-agent", PASSWORD).status_code == 302
