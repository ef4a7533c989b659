"""Cross-cutting tasks (names are contracts: see ARCHITECTURE.md)."""

from __future__ import annotations

from celery import shared_task
from celery.signals import task_failure

from omnichannel.alerts import alerts_check
from omnichannel.metrics import celery_task_failures_total


@shared_task(name="check_alerts")
def check_alerts() -> list[str]:
    return [alert.name for alert in alerts_check()]


@task_failure.connect
def _count_failure(sender=None, **_kwargs):
    celery_task_failures_total.labels(task=getattr(sender, "name", "unknown")).inc()


@shared_task(name="backup_db")
def backup_db() -> str:
    from omnichannel.backups import backup_create

    return backup_create()
