"""/metrics reports the database's state at scrape time, and django-prometheus's DB and cache series."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache, caches
from django.db import connection
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from conversations.models import Draft
from integrations.models import ShopifyCursor
from tests.builders import make_draft

ROOT = Path(__file__).resolve().parents[2]


def _samples(body: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body) for s in family.samples}


def _scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return _samples(response.content.decode())


@pytest.mark.django_db
def test_cursor_lag_is_the_time_since_the_last_delta_at_scrape_time(client):
    ShopifyCursor.objects.create(resource="orders", last_delta_at=timezone.now() - timedelta(minutes=20))
    ShopifyCursor.objects.create(resource="products", last_delta_at=timezone.now() - timedelta(seconds=30))
    ShopifyCursor.objects.create(resource="customers")  # never had a delta: no series (the alert ignores it too)
    samples = _scrape(client)
    assert 1199 <= samples[("shopify_cursor_lag_seconds", (("resource", "orders"),))] <= 1230
    assert 29 <= samples[("shopify_cursor_lag_seconds", (("resource", "products"),))] <= 60
    assert ("shopify_cursor_lag_seconds", (("resource", "customers"),)) not in samples
    # With no delta meanwhile the lag keeps growing between scrapes: what makes the 15-minute rule fire.
    ShopifyCursor.objects.filter(resource="orders").update(last_delta_at=timezone.now() - timedelta(minutes=40))
    assert _scrape(client)[("shopify_cursor_lag_seconds", (("resource", "orders"),))] >= 2399


@pytest.mark.django_db
def test_drafts_pending_counts_the_pending_drafts_at_scrape_time(client):
    assert _scrape(client)[("drafts_pending", ())] == 0
    drafts = [make_draft() for _ in range(3)]
    assert _scrape(client)[("drafts_pending", ())] == 3
    Draft.objects.filter(pk=drafts[0].pk).update(status=Draft.Status.REJECTED)
    assert _scrape(client)[("drafts_pending", ())] == 2


@pytest.mark.django_db
def test_the_oldest_webhook_no_worker_started_on_is_measured_per_source_at_scrape_time(client):
    from omnichannel.models import WebhookDelivery
    from omnichannel.webhook_deliveries import webhook_delivery_store

    def stored(source: str, n: int, status: str, minutes: int) -> None:
        delivery, _ = webhook_delivery_store(source=source, topic="t", external_id=f"age-{n}", headers={}, body=b"{}")
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=status,
                                                              received_at=timezone.now() - timedelta(minutes=minutes))

    assert not [key for key in _scrape(client) if key[0] == "webhook_intake_oldest_waiting_seconds"]
    stored("zoho", 1, "received", 10)
    stored("zoho", 2, "queued", 3)
    stored("shopify", 3, "queued", 1)
    stored("shopify", 4, "processed", 60)  # done: not waiting
    stored("shopify", 5, "failed", 60)  # waiting for an operator, not a worker: the failure alert's business
    samples = _scrape(client)
    assert 599 <= samples[("webhook_intake_oldest_waiting_seconds", (("source", "zoho"),))] <= 630
    assert 59 <= samples[("webhook_intake_oldest_waiting_seconds", (("source", "shopify"),))] <= 90


@pytest.mark.django_db
def test_database_and_cache_metrics_come_from_django_prometheus_backends(client):
    vendor = connection.vendor
    key = ("django_db_execute_total", (("alias", "default"), ("vendor", vendor)))
    before = _scrape(client).get(key, 0)
    ShopifyCursor.objects.filter(resource="nothing").count()  # one query
    after = _scrape(client)
    assert after[key] > before  # the query above and the scrape's own ones
    backend = "redis" if "Redis" in type(caches["default"]).__name__ else "locmem"
    labels = (("backend", backend),)
    hits_before = after.get(("django_cache_get_hits_total", labels), 0)
    misses_before = after.get(("django_cache_get_misses_total", labels), 0)
    name = f"metrics-test-{uuid.uuid4().hex}"
    assert cache.get(name) is None
    cache.set(name, 0, timeout=30)
    assert cache.get(name, "default") == 0  # a falsy value is a hit, not the default
    final = _scrape(client)
    assert final[("django_cache_get_hits_total", labels)] == hits_before + 1
    assert final[("django_cache_get_misses_total", labels)] == misses_before + 1


_MULTIPROCESS_SCRAPE = """
import json, django
django.setup()
from django.test import Client
from omnichannel.metrics import records_ingested_total
# What an ingest process leaves behind in its multiprocess file.
records_ingested_total.labels(source="shopify", kind="order").inc(7)
print(json.dumps(Client().get("/metrics").content.decode()))
"""


@pytest.mark.django_db(transaction=True)
def test_in_multiprocess_mode_the_scrape_time_values_win_over_stale_process_files(tmp_path):
    """Run the real multiprocess set-up (PROMETHEUS_MULTIPROC_DIR is read at import) in a child process."""
    ShopifyCursor.objects.create(resource="orders", last_delta_at=timezone.now() - timedelta(minutes=20))
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    else:
        pytest.skip("the child process needs a database it can share with this test")
    multiproc = tmp_path / "prom"
    multiproc.mkdir()
    env = {**os.environ, "DATABASE_URL": database_url, "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
           "DJANGO_SETTINGS_MODULE": "omnichannel.settings", "SYNC_USE_CELERY": "0", "LOG_LEVEL": "ERROR"}
    result = subprocess.run([sys.executable, "-c", _MULTIPROCESS_SCRAPE], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout.strip().splitlines()[-1])
    samples = _samples(body)
    assert samples[("records_ingested_total", (("kind", "order"), ("source", "shopify")))] == 7  # from the files
    assert samples[("drafts_pending", ())] == 0  # from the database, not the process's 999
    assert samples[("shopify_cursor_lag_seconds", (("resource", "orders"),))] >= 1199
    assert sum(1 for f in text_string_to_metric_families(body) if f.name == "drafts_pending") == 1
