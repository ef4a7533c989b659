"""gunicorn settings for the web process (docker-compose and production)."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Threads per worker (gthread). Every accepted webhook waits for its commit to reach the disk: a sync
# worker sits idle through that wait, while a few threads let the waits of several requests overlap,
# and Postgres flushes their commits together (group commit). Each thread keeps its own database
# connection (CONN_MAX_AGE), so the web process holds up to workers x threads of them. 1 = sync workers.
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = 30
accesslog = "-"
# Redacts ?token= (Zoho's signing key), ?email= and similar values in the access and error logs.
logger_class = "omnichannel.log_redaction.RedactingGunicornLogger"


def child_exit(server, worker):
    # Multiprocess Prometheus metrics: forget the live gauges of a worker that exited.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
