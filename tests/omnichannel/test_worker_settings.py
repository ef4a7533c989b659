"""Celery settings for no lost work: long tasks' own limits, a visibility timeout longer than any of them,
and a worker's own metrics endpoint."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from omnichannel.celery import app
from omnichannel.metrics import records_ingested_total
from omnichannel.metrics_view import worker_metrics_serve

ROOT = Path(__file__).resolve().parents[2]


def _check(**env_overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def test_long_tasks_get_limits_above_the_global_one_and_short_ones_keep_it():
    app.loader.import_default_modules()
    for name in ("shopify_backfill", "backup_db", "zoho_sync", "archive_conversations", "mine_demand"):
        task = app.tasks[name]
        assert task.time_limit == settings.LONG_TASK_TIME_LIMIT > settings.CELERY_TASK_TIME_LIMIT, name
        assert task.soft_time_limit < task.time_limit, name
    assert app.tasks["generate_draft"].time_limit in (None, settings.CELERY_TASK_TIME_LIMIT)
    longest = max([settings.CELERY_TASK_TIME_LIMIT] + [t.time_limit or 0 for t in app.tasks.values()])
    assert app.conf.broker_transport_options["visibility_timeout"] > longest


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"CELERY_VISIBILITY_TIMEOUT": "1200"},
     "CELERY_VISIBILITY_TIMEOUT=1200 must be longer than the longest task time limit (1800 s, shopify_backfill)"),
    ({"CELERY_LONG_TASK_TIME_LIMIT": "3600"},
     "CELERY_VISIBILITY_TIMEOUT=3600 must be longer than the longest task time limit (3600 s, shopify_backfill)"),
    ({"CELERY_TASK_TIME_LIMIT": "4000"},
     "CELERY_VISIBILITY_TIMEOUT=3600 must be longer than the longest task time limit (4000 s, every task)"),
])
def test_a_visibility_timeout_shorter_than_a_task_limit_refuses_to_start(overrides, expected, tmp_path):
    result = _check(VAR_DIR=str(tmp_path), **overrides)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr


def test_a_longer_visibility_timeout_starts(tmp_path):
    result = _check(VAR_DIR=str(tmp_path), CELERY_LONG_TASK_TIME_LIMIT="3600", CELERY_VISIBILITY_TIMEOUT="7200")
    assert result.returncode == 0, result.stderr


def test_a_worker_serves_its_counters_but_not_the_database_state():
    records_ingested_total.labels(source="zoho", kind="message").inc()
    server, thread = worker_metrics_serve(port=0, addr="127.0.0.1")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/metrics", timeout=10) as response:
            body = response.read().decode()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    names = {family.name for family in text_string_to_metric_families(body)}
    assert "records_ingested" in names and "celery_task_failures" in names
    # The web's /metrics computes these from Postgres; a worker's copy would be a second, stale series.
    assert "shopify_cursor_lag_seconds" not in names and "drafts_pending" not in names
