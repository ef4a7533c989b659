"""Queues per workload: every routed name is a real task, long jobs go to `long`, and every queue has a
worker in docker-compose.yml and in the default `make worker`. The real-worker proof that a long job does
not delay a draft is tests/omnichannel/test_queues_per_workload.py."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from django.conf import settings

from omnichannel.celery import ALL_QUEUES, DEFAULT_QUEUE, TASK_QUEUES, app

ROOT = Path(__file__).resolve().parents[2]


def _queue_of(task_name: str) -> str:
    route = app.amqp.router.route({}, task_name)
    return route["queue"].name


def test_each_workload_goes_to_its_own_queue():
    assert _queue_of("process_incoming_email_task") == _queue_of("process_shopify_event_task") == "intake"
    assert _queue_of("generate_draft") == _queue_of("index_approved_reply") == "drafts"
    assert _queue_of("send_draft") == "send"
    assert {_queue_of(name) for name in ("shopify_backfill", "backup_db", "archive_conversations", "mine_demand",
                                         "propose_faq", "zoho_sync")} == {"long"}
    assert _queue_of("check_alerts") == _queue_of("refresh_customer_summary") == DEFAULT_QUEUE


def test_every_routed_name_is_a_registered_task_and_every_long_task_is_routed_to_long():
    app.loader.import_default_modules()
    routed = {name for names in TASK_QUEUES.values() for name in names}
    assert routed - set(app.tasks) == set()  # a typo would silently send a task to the default queue
    # The long queue's tasks, and only they, get the long time limit (a weekly FAQ refresh over a year
    # of replies must not be killed at the short tasks' 360 s).
    assert set(settings.LONG_TASKS) == set(TASK_QUEUES["long"])


def test_the_faq_proposals_task_runs_under_the_long_time_limit():
    app.loader.import_default_modules()
    task = app.tasks["propose_faq"]
    assert (task.time_limit, task.soft_time_limit) == (settings.LONG_TASK_TIME_LIMIT, settings.LONG_TASK_TIME_LIMIT - 60)
    assert task.time_limit > settings.CELERY_TASK_TIME_LIMIT


def test_the_compose_file_runs_a_worker_service_per_workload_that_together_consume_every_queue():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    workers = {name: service for name, service in services.items() if "celery -A omnichannel worker" in
               str(service.get("command", ""))}
    assert sorted(workers) == ["worker-drafts", "worker-intake", "worker-long", "worker-send"]
    consumed = [re.search(r"--queues=(\S+)", service["command"]).group(1).split(",") for service in workers.values()]
    assert sorted(q for queues in consumed for q in queues) == sorted(ALL_QUEUES)  # each queue exactly once
    for name, service in workers.items():
        assert service["networks"]["default"]["aliases"] == ["worker"], name  # Prometheus' DNS discovery
        assert service["environment"]["CELERY_WORKER_METRICS_PORT"] == "9808", name


def test_make_worker_consumes_every_queue_unless_told_otherwise():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^ALL_QUEUES := (\S+)$", makefile, re.M).group(1).split(",") == list(ALL_QUEUES)
    assert "--queues=$(QUEUES)" in makefile
