"""The worker topology as documented: a worker's own metrics endpoint serves its pool processes'
counters (a multiprocess directory by default) and only theirs, so Prometheus scraping the web's
/metrics and every worker counts each event once; `make worker` / `make beat` refuse a missing broker."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from omnichannel.jobs import enqueue
from omnichannel.models import WebhookDelivery
from omnichannel.task_names import TaskName
from omnichannel.webhook_deliveries import webhook_delivery_store
from tests.omnichannel.test_real_worker import _payload
from tests.workers import ROOT, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
EMAILS = 12

# A web process (gunicorn's worker) in multiprocess mode: what it counted, then its /metrics.
_WEB = """
import json, django
django.setup()
from django.test import Client
from omnichannel.metrics import records_ingested_total
records_ingested_total.labels(source="shopify", kind="order").inc(3)
print(json.dumps(Client().get("/metrics").content.decode()))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _samples(body: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body) for s in family.samples}


def _scrape_worker(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:  # noqa: S310
        return _samples(response.read().decode())


def _worker_processes(celery_worker_process, **env) -> int:
    port = _free_port()
    worker = celery_worker_process(CELERY_WORKER_METRICS_PORT=str(port), **env)
    ids = []
    for n in range(EMAILS):
        delivery, _ = webhook_delivery_store(source="zoho", topic="mail.incoming", external_id=f"metrics-{n}",
                                             headers={}, body=_payload(500 + n))
        ids.append(delivery.pk)
    for pk in ids:
        enqueue(TaskName.PROCESS_INCOMING_EMAIL, pk)
    assert wait_for(lambda: WebhookDelivery.objects.filter(status="processed").count() == EMAILS, timeout=120), \
        worker.log_tail()
    return port


MESSAGES = ("records_ingested_total", (("kind", "message"), ("source", "zoho")))
PROCESSED = ("webhook_deliveries_total", (("source", "zoho"), ("status", "processed")))
WEB_ORDERS = ("records_ingested_total", (("kind", "order"), ("source", "shopify")))


def test_scraping_the_web_and_the_worker_on_one_host_counts_each_event_once(celery_worker_process, tmp_path):
    """One host, one PROMETHEUS_MULTIPROC_DIR for gunicorn and the worker (the README's set-up): the
    worker's endpoint must not serve the web's files, nor the web's /metrics the worker's."""
    shared = tmp_path / "prometheus"
    shared.mkdir()
    port = _worker_processes(celery_worker_process, PROMETHEUS_MULTIPROC_DIR=str(shared))
    db = connection.settings_dict
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared), "SYNC_USE_CELERY": "0", "LOG_LEVEL": "ERROR",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"}
    web = subprocess.run([sys.executable, "-c", _WEB], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert web.returncode == 0, web.stderr
    web_samples = _samples(json.loads(web.stdout.strip().splitlines()[-1]))
    worker_samples = _scrape_worker(port)
    for key, events in ((MESSAGES, EMAILS), (PROCESSED, EMAILS), (WEB_ORDERS, 3)):
        counted = web_samples.get(key, 0) + worker_samples.get(key, 0)
        assert counted == events, (key, web_samples.get(key), worker_samples.get(key))


def test_a_worker_endpoint_without_a_multiprocess_directory_still_serves_its_pool_processes_counters(
        celery_worker_process):
    """The tasks run in the pool's child processes, the endpoint in the parent: without a directory of
    its own the parent's registry would never see a task's counter."""
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    port = _worker_processes(celery_worker_process)
    samples = _scrape_worker(port)
    assert samples.get(MESSAGES) == EMAILS and samples.get(PROCESSED) == EMAILS


@pytest.mark.parametrize("command", ["worker", "beat"])
def test_the_worker_and_beat_refuse_to_start_without_a_real_broker(command, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL", "SYNC_USE_CELERY"}}
    env.update(VAR_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    process = subprocess.Popen([sys.executable, "-m", "celery", "-A", "omnichannel", command, "--loglevel=WARNING"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # with its pool, if it started one
        process.communicate()
        pytest.fail(f"celery {command} started on the in-memory broker instead of refusing")
    assert process.returncode == 2, stderr[-2000:]
    assert "Configuration error: celery " + command in stderr
    assert "REDIS_URL" in stderr and "Traceback" not in stderr
