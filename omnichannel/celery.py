"""The Celery app: configured from Django settings (CELERY_*), tasks found in each app."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnichannel.settings")

app = Celery("omnichannel")


@app.on_configure.connect
def _refuse_a_bad_environment(**_kwargs):
    """Sent before the CELERY_* settings are first read: `celery worker` / `celery beat` with a bad
    environment stops with one line naming the variable, not a traceback from click."""
    from omnichannel.env import settings_load_or_exit

    settings_load_or_exit()


app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A worker or beat refuses to start without a broker; a worker's metrics get their own directory.
from omnichannel.worker_setup import worker_process_prepare  # noqa: E402 - also connects its signal handlers

worker_process_prepare()
