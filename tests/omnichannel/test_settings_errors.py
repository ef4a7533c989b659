"""A malformed environment stops the start with a message naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _check(**env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG='maybe' is not a boolean"),
    ("DATABASE_URL", "mysql-ish nonsense", "DATABASE_URL='mysql-ish nonsense' is not a database URL"),
    ("REDIS_URL", "localhost:6379", "REDIS_URL='localhost:6379' is not a Redis URL"),
    ("CHROMA_PORT", "eight thousand", "CHROMA_PORT='eight thousand' is not an integer"),
    ("LLM_PROVIDER", "magic", "LLM_PROVIDER='magic' is not one of: grounded, openai"),
    ("THREAD_TRUSTED_DOMAINS", "example.com, ops@partner", "THREAD_TRUSTED_DOMAINS: 'ops@partner' is not a domain name"),
])
def test_a_bad_value_names_the_variable_and_what_is_expected(name, value, expected, tmp_path):
    result = _check(VAR_DIR=str(tmp_path), **{name: value})
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _check(VAR_DIR=str(tmp_path), DJANGO_PRODUCTION="1")
    assert result.returncode == 2
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"SYNC_USE_CELERY": "1"}, "SYNC_USE_CELERY=1 needs a broker"),
    # Workers and web are separate processes: one embedded Chroma on disk cannot serve them all.
    ({"SYNC_USE_CELERY": "1", "REDIS_URL": "redis://127.0.0.1:6379/15"},
     "SYNC_USE_CELERY=1 runs the web and Celery workers as separate processes, and embedded Chroma"),
    ({"ZOHO_MODE": "live", "ZOHO_CLIENT_ID": "id"},
     "ZOHO_MODE=live needs ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN, ZOHO_ACCOUNT_ID"),
    ({"SHOPIFY_MODE": "live"}, "SHOPIFY_MODE=live needs SHOPIFY_ACCESS_TOKEN"),
    ({"DJANGO_PRODUCTION": "1", "DJANGO_SECRET_KEY": "k" * 60}, "ZOHO_WEBHOOK_SECRET must be set to the real secret"),
    ({"SHOPIFY_WEBHOOK_SECRET_PREVIOUS": "shpss_old"}, "SHOPIFY_WEBHOOK_SECRET_PREVIOUS needs "
                                                       "SHOPIFY_WEBHOOK_SECRET_PREVIOUS_UNTIL"),
    ({"SHOPIFY_WEBHOOK_SECRET_PREVIOUS": "shpss_old", "SHOPIFY_WEBHOOK_SECRET_PREVIOUS_UNTIL": "next tuesday"},
     "SHOPIFY_WEBHOOK_SECRET_PREVIOUS_UNTIL='next tuesday' is not an ISO 8601 date and time"),
    ({"SHOPIFY_WEBHOOK_SECRET_PREVIOUS": "shpss_old", "SHOPIFY_WEBHOOK_SECRET_PREVIOUS_UNTIL": "2026-12-01T12:00:00"},
     "SHOPIFY_WEBHOOK_SECRET_PREVIOUS_UNTIL='2026-12-01T12:00:00' has no time zone"),
])
def test_combinations_that_cannot_work_are_refused_at_start(overrides, expected, tmp_path):
    result = _check(VAR_DIR=str(tmp_path), **overrides)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("overrides", [
    {"SYNC_USE_CELERY": "1", "REDIS_URL": "redis://127.0.0.1:6379/15", "CHROMA_HOST": "127.0.0.1"},
    {"SYNC_USE_CELERY": "1", "REDIS_URL": "redis://127.0.0.1:6379/15", "CHROMA_ALLOW_EMBEDDED_MULTIPROCESS": "1"},
    {"SYNC_USE_CELERY": "0", "REDIS_URL": "redis://127.0.0.1:6379/15"},  # one process: embedded is fine
    {},  # `make run`: embedded everything
], ids=["chroma server", "embedded allowed for tests", "inline", "embedded"])
def test_chroma_with_workers_starts_with_a_server_or_when_explicitly_allowed(overrides, tmp_path):
    result = _check(VAR_DIR=str(tmp_path), **overrides)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("argv", [
    ["-m", "celery", "-A", "omnichannel", "worker", "--loglevel=WARNING"],
    ["-m", "gunicorn", "omnichannel.wsgi", "-b", "127.0.0.1:0"],
])
def test_the_worker_and_the_web_server_refuse_a_bad_environment_with_one_line(argv, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(VAR_DIR=str(tmp_path), DJANGO_DEBUG="maybe")
    result = subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode in (2, 3)  # 3 is gunicorn's "worker failed to boot": its master stops
    assert "Configuration error: DJANGO_DEBUG='maybe' is not a boolean" in result.stderr
    assert "Traceback" not in result.stderr
