"""Production refuses unsafe settings (issue "Customer data stays safe", item 9).

Start-up refusals run `manage.py check` in a subprocess, as tests/omnichannel/test_settings_errors.py
does: the settings module is what refuses, before Django is up. The demo-password check and
seed_demo need the database, so they run here, with DJANGO_PRODUCTION=1 as a setting.
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core import checks
from django.core.management import CommandError, call_command

from integrations.demo import DEMO_USERS, seed_demo

ROOT = Path(__file__).resolve().parents[2]
# A production environment that is safe: every secret random, Zoho and Shopify live.
SAFE = {
    "DJANGO_PRODUCTION": "1", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "support.example.com", "PII_HASH_SALT": secrets.token_urlsafe(24),
    "ZOHO_MODE": "live", "ZOHO_CLIENT_ID": "1000.ABC", "ZOHO_CLIENT_SECRET": secrets.token_hex(16),
    "ZOHO_REFRESH_TOKEN": secrets.token_hex(16), "ZOHO_ACCOUNT_ID": "123456", "ZOHO_WEBHOOK_SECRET": secrets.token_hex(16),
    "ZOHO_SENT_FOLDER": "9000000002014",
    "SHOPIFY_MODE": "live", "SHOPIFY_ACCESS_TOKEN": "shpat_" + secrets.token_hex(16),
    "SHOPIFY_WEBHOOK_SECRET": secrets.token_hex(16), "METRICS_BASIC_AUTH": "prometheus:" + secrets.token_hex(8),
    "ARCHIVE_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
}


def _manage(*args: str, tmp_path, **overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"} and not k.startswith(
        ("ZOHO_", "SHOPIFY_", "DJANGO_", "PII_", "METRICS_"))}
    env.update(VAR_DIR=str(tmp_path), **{**SAFE, **overrides})
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_check_deploy_is_clean_with_a_safe_production_environment(tmp_path):
    result = _manage("check", "--deploy", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"ZOHO_MODE": "fake"}, "ZOHO_MODE=fake (the local fake)"),
    ({"SHOPIFY_MODE": None, "SHOPIFY_ACCESS_TOKEN": None}, "SHOPIFY_MODE=fake (the local fake)"),
    ({"PII_HASH_SALT": None}, "PII_HASH_SALT must be set to the real secret"),
    ({"PII_HASH_SALT": "dev-pii-salt"}, "PII_HASH_SALT must be set to the real secret"),
    # The secrets .env.example, the settings' defaults and docker-compose.yml used to publish.
    ({"ZOHO_WEBHOOK_SECRET": "dev-zoho-webhook-secret"}, "ZOHO_WEBHOOK_SECRET must be set to the real secret"),
    ({"SHOPIFY_WEBHOOK_SECRET": None}, "SHOPIFY_WEBHOOK_SECRET must be set to the real secret"),
    ({"DJANGO_SECRET_KEY": "change-me-in-production"}, "DJANGO_SECRET_KEY must be set to the real secret"),
    ({"METRICS_BASIC_AUTH": "prometheus:change-me-too"}, "METRICS_BASIC_AUTH must be set to the real secret"),
    # A folder name matches no Zoho folderId: every reply sent from Zoho Mail would count as forged.
    ({"ZOHO_SENT_FOLDER": None}, "ZOHO_SENT_FOLDER='sent' must be the Sent folder's folderId"),
])
def test_production_refuses_to_start_with_a_fake_or_a_public_secret(overrides, expected, tmp_path):
    result = _manage("check", tmp_path=tmp_path, **overrides)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "DJANGO_PRODUCTION=1 refuses unsafe settings" in result.stderr and expected in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_a_superuser_with_a_demo_password_fails_the_checks_in_production(settings, django_user_model):
    boss = django_user_model.objects.create_superuser(username="boss", password=DEMO_USERS["admin"][0])
    django_user_model.objects.create_user(username="agent", password=DEMO_USERS["agent"][0], is_staff=True)
    django_user_model.objects.create_user(username="carol", password=DEMO_USERS["ops"][0], is_staff=True)
    settings.PRODUCTION = False
    assert not [e for e in checks.run_checks(tags=[checks.Tags.security]) if e.id == "integrations.E001"]
    settings.PRODUCTION = True
    found = [e for e in checks.run_checks(tags=[checks.Tags.security]) if e.id == "integrations.E001"]
    # The superuser with any demo password, the demo account with its own; not a plain agent who chose one.
    assert sorted(e.msg.split("'")[1] for e in found) == ["agent", "boss"]
    boss.set_password(secrets.token_urlsafe(16))
    boss.save()
    found = [e for e in checks.run_checks(tags=[checks.Tags.security]) if e.id == "integrations.E001"]
    assert [e.msg.split("'")[1] for e in found] == ["agent"]


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="refuses to run with DJANGO_PRODUCTION=1"):
        call_command("seed_demo")
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_seed_demo_never_resets_an_existing_users_password(django_user_model, capsys):
    own = secrets.token_urlsafe(16)
    django_user_model.objects.create_superuser(username="admin", password=own)
    seed_demo()
    admin = django_user_model.objects.get(username="admin")
    assert admin.check_password(own) and not admin.check_password(DEMO_USERS["admin"][0])
    assert django_user_model.objects.get(username="agent").check_password(DEMO_USERS["agent"][0])  # new: created
    call_command("seed_demo")
    assert "admin  password: (exists: password kept)" in capsys.readouterr().out


def test_docker_compose_reads_its_secrets_from_a_required_env_file_and_publishes_only_web():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    text = (ROOT / "docker-compose.yml").read_text()
    assert ":-" not in text and "change-me" not in text  # no default for anything
    services = compose["services"]
    workers = [name for name in services if name.startswith("worker")]
    assert workers
    for name in ("web", *workers, "beat", "migrate", "postgres", "minio", "grafana"):
        assert services[name]["env_file"] == [".env.production"], name
    for name in ("web", *workers, "beat", "migrate"):
        environment = services[name]["environment"]
        assert environment["DJANGO_PRODUCTION"] == "1"
        assert not {"DJANGO_SECRET_KEY", "DATABASE_URL", "PII_HASH_SALT", "METRICS_BASIC_AUTH"} & set(environment)
    assert "POSTGRES_PASSWORD" not in services["postgres"]["environment"]
    assert [name for name, service in services.items() if service.get("ports")] == ["web"]
    assert ".env.production" in (ROOT / ".gitignore").read_text().split()
    assert ".env.production" in (ROOT / ".dockerignore").read_text().split()
