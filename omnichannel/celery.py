"""The Celery app: configured from Django settings (CELERY_*), tasks found in each app.

Queues per workload, so a 30-minute backfill never sits in front of a customer's draft: each queue has
workers of its own (docker-compose.yml's worker-* services, `make worker QUEUES=…`), sized for its work.
Task names are contracts (ARCHITECTURE.md); a task not listed here goes to the default queue.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnichannel.settings")

DEFAULT_QUEUE = "celery"  # Celery's own default name: tasks queued before the split are still consumed
TASK_QUEUES = {
    # Webhook and poll payloads into rows: many short database tasks, latency matters (a customer waits).
    "intake": ("process_incoming_email_task", "process_shopify_event_task", "drain_webhook_deliveries",
               "replay_stalled_deliveries"),
    # Drafting waits on retrieval and the LLM (seconds each, I/O-bound); indexing approved replies is Chroma.
    "drafts": ("generate_draft", "index_approved_reply"),
    # Replies to customers through Zoho: rare, must not wait behind anything.
    "send": ("send_draft",),
    # Minutes to half an hour each (CELERY_LONG_TASK_TIME_LIMIT): backfills, polls, crawls, backups, archives.
    "long": ("shopify_backfill", "zoho_sync", "backup_db", "archive_conversations", "mine_demand", "propose_faq"),
}
ALL_QUEUES = (*TASK_QUEUES, DEFAULT_QUEUE)

app = Celery("omnichannel")


@app.on_configure.connect
def _refuse_a_bad_environment(**_kwargs):
    """Sent before the CELERY_* settings are first read: `celery worker` / `celery beat` with a bad
    environment stops with one line naming the variable, not a traceback from click."""
    from omnichannel.env import settings_load_or_exit

    settings_load_or_exit()


app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_default_queue = DEFAULT_QUEUE
app.conf.task_routes = {name: {"queue": queue} for queue, names in TASK_QUEUES.items() for name in names}
app.autodiscover_tasks()

# A worker or beat refuses to start without a broker; a worker's metrics get their own directory.
from omnichannel.worker_setup import worker_process_prepare  # noqa: E402 - also connects its signal handlers

worker_process_prepare()
