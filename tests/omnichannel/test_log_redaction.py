"""Zoho's `?token=` (the signing key) and `?email=` never reach a log line (issue item 6).

Real requests: Django's test client through the project's configured console handler, and a real
gunicorn process started with the project's config file, whose access log is read back.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import uuid

import pytest
import requests
from django.db import connection

from tests.web import gunicorn_process

EMAIL = "only.in.the.query@example.com"


@pytest.fixture
def console_output():
    """What the project's console handler (settings.LOGGING) writes, filters and formatter included."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    captured = io.StringIO()
    previous = handler.setStream(captured)
    yield captured
    handler.setStream(previous)


def _payload() -> bytes:
    return json.dumps({"messageId": 1764300000000000001, "folderId": "inbox", "threadId": 1764300000000000001,
                       "subject": "Hello", "fromAddress": "sender@example.com", "receivedTime": "1764300000000",
                       "html": "<p>Hi</p>"}).encode()


@pytest.mark.django_db
def test_django_logs_never_show_the_webhook_token_or_a_queried_email(client, settings, console_output, agent_user):
    secret = f"zoho-secret-{uuid.uuid4().hex}"
    settings.ZOHO_WEBHOOK_SECRET = secret
    assert client.post(f"/webhooks/zoho/?token={secret}&email={EMAIL}", data=_payload(),
                       content_type="application/json").status_code == 200
    assert client.get(f"/webhooks/zoho/?token={secret}").status_code == 405
    assert client.post(f"/webhooks/zoho/?TOKEN={secret}x", data=_payload(),
                       content_type="application/json").status_code == 401
    assert client.get(f"/api/customer_summary/?email={EMAIL}").status_code in (401, 403)
    client.force_login(agent_user)
    assert client.get(f"/api/customer_summary/?email={EMAIL.replace('@', '%40')}").status_code == 404
    logging.getLogger("integrations").warning("calling back %s", f"https://hooks.example/cb?x=1&token={secret}")
    try:
        raise ValueError(f"bad url https://hooks.example/?email={EMAIL}")
    except ValueError:
        logging.getLogger("integrations").exception("callback failed")

    output = console_output.getvalue()
    assert output.count("[redacted]") >= 6, output  # the records were written, with their values replaced
    assert secret not in output and EMAIL not in output and EMAIL.replace("@", "%40") not in output, output


@pytest.mark.django_db
def test_gunicorn_access_log_never_shows_the_webhook_token_or_a_queried_email(settings, tmp_path):
    """The README's and docker-compose's command: gunicorn with deploy/gunicorn.conf.py. The requests
    chosen write nothing (405, 401), so the server may share the test database."""
    db = connection.settings_dict
    secret = f"zoho-secret-{uuid.uuid4().hex}"
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": database_url if connection.vendor == "postgresql" else "",
           "REDIS_URL": settings.REDIS_URL, "SYNC_USE_CELERY": "0", "ZOHO_WEBHOOK_SECRET": secret,
           "VAR_DIR": str(tmp_path), "GUNICORN_WORKERS": "1", "LOG_LEVEL": "INFO"}
    log_path = tmp_path / "gunicorn.log"
    with gunicorn_process(env, log_path) as base:
        assert requests.get(f"{base}/webhooks/zoho/?token={secret}&email={EMAIL}", timeout=5).status_code == 405
        assert requests.get(f"{base}/api/customer_summary/?email={EMAIL}", timeout=5,
                            headers={"Referer": f"{base}/admin/?token={secret}"}).status_code in (401, 403)
        basic = base64.b64encode(b"x:y").decode()
        assert requests.get(f"{base}/api/customer_summary/", params={"email": EMAIL}, timeout=5,
                            headers={"Authorization": f"Basic {basic}"}).status_code in (401, 403)
    output = log_path.read_text()
    assert output.count("GET /webhooks/zoho/?token=[redacted]&email=[redacted]") == 1, output
    assert "GET /api/customer_summary/?email=[redacted]" in output, output
    assert secret not in output and EMAIL not in output and EMAIL.replace("@", "%40") not in output, output
