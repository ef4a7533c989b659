"""gunicorn settings for the web process (docker-compose and production)."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
timeout = 30
accesslog = "-"
# Redacts ?token= (Zoho's signing key), ?email= and similar values in the access and error logs.
logger_class = "omnichannel.log_redaction.RedactingGunicornLogger"


def child_exit(server, worker):
    # Multiprocess Prometheus metrics: forget the live gauges of a worker that exited.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
