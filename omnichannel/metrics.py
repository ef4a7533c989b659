"""The project's own Prometheus metrics, defined once and imported where they are counted.

Names and labels are a contract (README, deploy/prometheus/alerts.yml). With several
gunicorn or Celery processes, set PROMETHEUS_MULTIPROC_DIR so prometheus_client writes
per-process files that the /metrics view aggregates.

`drafts_pending`, `drafts_send_failed`, `shopify_cursor_lag_seconds` and
`webhook_intake_oldest_waiting_seconds` are states of the database, not events of one process:
/metrics computes them from Postgres at every scrape (omnichannel/metrics_view.py), so a lag
keeps growing while no delta arrives and the stale-cursor rule can fire. No process sets them,
so no stale per-process copy can shadow the scrape-time value.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

records_ingested_total = Counter(
    "records_ingested_total", "Records written by ingest paths", ["source", "kind"],
)
webhook_deliveries_total = Counter(
    "webhook_deliveries_total", "Webhook deliveries by outcome", ["source", "status"],
)
draft_latency_seconds = Histogram(
    "draft_latency_seconds", "Time to generate one draft",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
SEND_FAILURE_REASONS = ("refused", "interrupted", "out_of_tries")
sends_failed_total = Counter(
    "sends_failed_total", "Approved replies whose send failed for good: refused (a 4xx, an empty reply), "
    "interrupted (a worker died mid-send: an agent must check) or out_of_tries", ["reason"],
)
drafts_sent_total = Counter("drafts_sent", "Drafts whose reply was sent")  # draft_mark_sent, after commit
model_cost_usd_total = Counter(  # every ModelRun's cost, after commit (assistants/services.py)
    "model_cost_usd", "Cost of drafting model calls, USD (ModelRun.cost_usd)", ["model"],
)
celery_task_failures_total = Counter(
    "celery_task_failures_total", "Celery tasks that failed after their last retry", ["task"],
)

# The failure series exist at 0 from each process's start: Prometheus' increase() sees no increase in a
# series whose first sample is already 1, so an alert on the first failure of a process would never fire.
for _reason in SEND_FAILURE_REASONS:
    sends_failed_total.labels(reason=_reason)
for _source in ("zoho", "shopify"):
    webhook_deliveries_total.labels(source=_source, status="failed")
