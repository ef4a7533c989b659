"""The Celery app: configured from Django settings (CELERY_*), tasks found in each app.

Queues per workload, so a 30-minute backfill never sits in front of a customer's draft: each queue has
workers of its own (docker-compose.yml's worker-* services, `make worker QUEUES=…`), sized for its work.
Task names are contracts (omnichannel/task_names.py); a task not listed here goes to the default queue.
"""

import os

from celery import Celery
from celery.signals import before_task_publish

from omnichannel.env import settings_load_or_exit
from omnichannel.task_names import TaskName

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnichannel.settings")

DEFAULT_QUEUE = "celery"  # Celery's own default name: tasks queued before the split are still consumed
TASK_QUEUES = {
    # Webhook and poll payloads into rows: many short database tasks, latency matters (a customer waits).
    "intake": (TaskName.PROCESS_INCOMING_EMAIL, TaskName.PROCESS_SHOPIFY_EVENT, TaskName.DRAIN_WEBHOOK_DELIVERIES,
               TaskName.REPLAY_STALLED_DELIVERIES),
    # Drafting waits on retrieval and the LLM (seconds each, I/O-bound); indexing approved replies is Chroma.
    "drafts": (TaskName.GENERATE_DRAFT, TaskName.INDEX_APPROVED_REPLY),
    # Replies to customers through Zoho: rare, must not wait behind anything.
    "send": (TaskName.SEND_DRAFT,),
    # Minutes to half an hour each (CELERY_LONG_TASK_TIME_LIMIT): backfills, polls, crawls, backups, archives.
    "long": (TaskName.SHOPIFY_BACKFILL, TaskName.ZOHO_SYNC, TaskName.BACKUP_DB, TaskName.ARCHIVE_CONVERSATIONS,
             TaskName.MINE_DEMAND, TaskName.PROPOSE_FAQ, TaskName.CRAWL_SITE_DOCUMENTS),
}
ALL_QUEUES = (*TASK_QUEUES, DEFAULT_QUEUE)

app = Celery("omnichannel")


@app.on_configure.connect
def _refuse_a_bad_environment(**_kwargs):
    """Sent before the CELERY_* settings are first read: `celery worker` / `celery beat` with a bad
    environment stops with one line naming the variable, not a traceback from click."""
    settings_load_or_exit()


app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_default_queue = DEFAULT_QUEUE
app.conf.task_routes = {name: {"queue": queue} for queue, names in TASK_QUEUES.items() for name in names}
app.autodiscover_tasks()



@before_task_publish.connect
def _leave_time_limits_to_the_worker(headers=None, **_kwargs):
    """Celery stamps the *sender's* time limits on every task message (Task.from_config copies
    task_soft_time_limit / task_time_limit and the annotations onto each task class, and apply_async sends
    them), and a worker obeys the message over its own settings. So a web process with other limits than
    the workers (or none set) decided how long a worker's task could run: a worker configured for a 20 s
    soft limit let a stalled LLM call hold it for the web's 300 s, and the worker's own check that its
    visibility timeout outlasts its hard limits (settings.py) checked numbers it did not use. Cleared here,
    the worker applies its own CELERY_TASK_*_TIME_LIMIT and annotations. A caller that really means a
    limit for one call passes it to apply_async and, not being the task default, it is kept."""
    if headers is None:
        return
    name = headers.get("task")
    task = app.tasks.get(name) if name else None
    limits = headers.get("timelimit")
    if task is not None and limits and tuple(limits) == (task.time_limit, task.soft_time_limit):
        headers["timelimit"] = (None, None)


# A worker or beat refuses to start without a broker; a worker's metrics get their own directory.
from omnichannel.worker_setup import worker_process_prepare  # noqa: E402 - also connects its signal handlers

worker_process_prepare()
