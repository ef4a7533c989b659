"""Accounts (issue "Customer data stays safe", item 8): sessions that end, API tokens hashed at rest with an
expiry, and two-factor (TOTP) login required for Ops in production."""

from __future__ import annotations

import hashlib
import importlib
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_revoke
from omnichannel.roles import roles_sync

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-staff-password-2026"


@pytest.fixture
def ops(django_user_model):
    roles_sync()
    user = django_user_model.objects.create_user(username="olga", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Ops"))
    return user


@pytest.fixture
def agent(django_user_model):
    roles_sync()
    user = django_user_model.objects.create_user(username="arno", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Agents"))
    return user


def _code(device: TOTPDevice) -> str:
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{code:0{device.digits}d}"


def _login(client, username: str, **extra):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": PASSWORD, **extra})


# --- sessions ---------------------------------------------------------------------------------------------

def test_a_login_lasts_twelve_hours_and_ends_with_the_browser(client, agent):
    assert _login(client, "arno").status_code == 302
    assert client.session.get_expiry_age() == 12 * 3600
    assert client.session.get_expire_at_browser_close() is True
    assert not client.cookies["sessionid"]["max-age"]  # a browser-session cookie


def test_a_session_past_its_age_is_logged_out(client, agent):
    _login(client, "arno")
    from django.contrib.sessions.models import Session

    Session.objects.filter(session_key=client.session.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get("/admin/").status_code == 302


# --- API tokens -------------------------------------------------------------------------------------------

def test_the_command_prints_a_token_once_and_the_database_keeps_only_its_digest(ops, capsys):
    call_command("drf_create_token", "olga", "--name", "reporting script")
    out = capsys.readouterr().out
    token = re.search(r"Generated token (\S+) for user olga", out).group(1)
    row = ApiToken.objects.get(user=ops)
    assert row.digest == hashlib.sha256(token.encode()).hexdigest() and row.prefix == token[:8]
    assert row.expires_at - timezone.now() > timedelta(days=89)
    with connection.cursor() as cursor:  # the token appears nowhere in the database
        cursor.execute("SELECT * FROM api_tokens")
        assert token not in str(cursor.fetchall())
    assert "authtoken_token" not in connection.introspection.table_names()  # DRF's plain-text table is gone
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/drafts/").status_code == 200


def test_an_expired_or_revoked_token_is_refused(ops):
    row, token = api_token_create(user=ops)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/drafts/").status_code == 200
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get("/api/drafts/")
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    row, token = api_token_create(user=ops)
    api_token_revoke(token_id=row.pk)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/drafts/").status_code == 401


def test_plain_text_tokens_left_by_drf_become_digests_and_keep_working(ops):
    migration = importlib.import_module("accounts.migrations.0002_plaintext_tokens_hashed")
    old_key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
                       "created timestamp with time zone, user_id integer NOT NULL)")
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, now(), %s)", [old_key, ops.pk])
    from django.apps import apps

    with connection.schema_editor() as editor:
        migration.plaintext_tokens_hashed(apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    assert ApiToken.objects.get(user=ops).digest == hashlib.sha256(old_key.encode()).hexdigest()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old_key}")
    assert client.get("/api/drafts/").status_code == 200


# --- two-factor -------------------------------------------------------------------------------------------

@pytest.fixture
def production_otp(settings):
    settings.OTP_REQUIRED = True  # what DJANGO_PRODUCTION=1 sets


def test_ops_without_an_authenticator_cannot_log_in_in_production(client, ops, production_otp):
    response = _login(client, "olga")
    assert response.status_code == 200 and "has no authenticator yet" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_ops_log_in_with_password_and_a_totp_code(client, ops, production_otp, settings):
    # A minute's lockout after one wrong code (django-otp's default is one second, which a busy machine can
    # outlast between two requests and make the right code pass early).
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    device = TOTPDevice.objects.create(user=ops, name="phone", confirmed=True)
    response = _login(client, "olga")  # the password alone is not enough
    assert response.status_code == 200 and "otp_token" in response.content.decode()
    assert client.get("/admin/").status_code == 302
    wrong = "000000" if _code(device) != "000000" else "111111"
    assert _login(client, "olga", otp_token=wrong).status_code == 200
    # django-otp throttles the device after a wrong code: even the right one waits (guessing is slow).
    assert _login(client, "olga", otp_token=_code(device)).status_code == 200
    device.refresh_from_db()
    device.throttle_reset()
    response = _login(client, "olga", otp_token=_code(device))
    assert response.status_code == 302, response.context["form"].errors
    assert client.get("/admin/").status_code == 200


def test_a_session_without_a_code_does_not_open_the_admin_or_the_api_for_ops(client, ops, production_otp):
    TOTPDevice.objects.create(user=ops, name="phone", confirmed=True)
    client.force_login(ops)  # a session made some other way than the two-factor login
    assert client.get("/admin/").status_code == 302
    assert client.get("/api/drafts/").status_code in (401, 403)


def test_agents_log_in_with_a_password_and_ops_need_no_code_outside_production(client, agent, ops, settings):
    settings.OTP_REQUIRED = True
    assert _login(client, "arno").status_code == 302 and client.get("/admin/").status_code == 200
    settings.OTP_REQUIRED = False
    client.logout()
    assert _login(client, "olga").status_code == 302 and client.get("/admin/").status_code == 200


def test_the_command_gives_a_user_an_authenticator_url(ops, capsys):
    call_command("totp_create_device", "olga")
    assert "otpauth://totp/" in capsys.readouterr().out
    assert TOTPDevice.objects.get(user=ops).confirmed
