"""Every periodic job, written into django-celery-beat by `install_schedules` (run at deploy and
after migrate), so schedules live in code review and not only in someone's admin clicks."""

from __future__ import annotations

from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from omnichannel.celery import app
from omnichannel.task_names import TaskName

# task name -> (crontab fields minute, hour, day_of_week) or ("every", seconds); one comment per cron.
SCHEDULES = {
    TaskName.CHECK_ALERTS: ("every", 300),  # the seed's alerts, every 5 minutes
    TaskName.ENSURE_DRAFTS: ("every", 600),  # re-request drafts whose generate_draft task was lost
    # every minute: flag sends whose worker died (lease expired) within WORK_LEASE_SECONDS + 60 s; re-queue
    # approved drafts whose send_draft task was lost or ran out of retries (after SWEEP_GRACE_SECONDS)
    TaskName.ENSURE_SENT: ("every", 60),
    # every minute: hand on deliveries whose worker died (lease expired) or whose task was lost; a killed
    # worker's delivery is processed again within WORK_LEASE_SECONDS + 60 s (integrations/replay.py)
    TaskName.REPLAY_STALLED_DELIVERIES: ("every", 60),
    TaskName.ZOHO_SYNC: ("every", 300),  # Zoho does not promise webhook delivery: poll as the fallback
    TaskName.SHOPIFY_BACKFILL: ("30", "2", "*"),  # nightly reconciliation at 02:30 UTC
    TaskName.REFRESH_CUSTOMER_SUMMARY: ("every", 900),  # the read model, in case a debounced refresh was lost
    # hourly: conversations quiet on the customer's side for AUTO_CLOSE_DAYS
    TaskName.AUTO_CLOSE_CONVERSATIONS: ("15", "*", "*"),
    TaskName.ARCHIVE_CONVERSATIONS: ("0", "3", "*"),  # retention, nightly (and archives past ARCHIVE_KEEP_DAYS deleted)
    TaskName.EXPIRE_DATA_EXPORTS: ("15", "3", "*"),  # data-request exports past DATA_EXPORT_KEEP_DAYS deleted, nightly
    TaskName.BACKUP_DB: ("30", "3", "*"),  # nightly pg_dump
    TaskName.MINE_DEMAND: ("0", "5", "1"),  # weekly demand report, Mondays
    TaskName.PROPOSE_FAQ: ("30", "5", "1"),  # weekly FAQ proposals, Mondays
    # every 6 hours: Ops' site documents, conditional GETs, re-indexing only pages that changed
    TaskName.CRAWL_SITE_DOCUMENTS: ("40", "*/6", "*"),
}


# Written on the rows this command disabled itself, so only those come back on when their task does:
# a row an Ops user disabled in the admin stays disabled.
_DISABLED_NOTE = "disabled by install_schedules: task not registered in this deployment"


def _schedule_fields(spec) -> dict:
    if spec[0] == "every":
        interval, _ = IntervalSchedule.objects.get_or_create(every=spec[1], period=IntervalSchedule.SECONDS)
        return {"interval": interval, "crontab": None}
    minute, hour, day_of_week = spec
    crontab, _ = CrontabSchedule.objects.get_or_create(minute=minute, hour=hour, day_of_week=day_of_week,
                                                       day_of_month="*", month_of_year="*", timezone="UTC")
    return {"crontab": crontab, "interval": None}


def schedules_install(*, reset: bool = False) -> dict[str, list[str]]:
    """Create the beat rows that are missing; leave existing ones as Ops set them in the admin.

    Runs after every `migrate`, so it must never undo an operator's change of time or state; only
    `reset=True` (`install_schedules --reset`) writes the code's schedule over existing rows.
    Rows of tasks this deployment does not register are disabled (they would fail every run).
    """
    app.loader.import_default_modules()
    result = {"created": [], "reset": [], "kept": [], "skipped": []}
    with transaction.atomic():
        for task, spec in SCHEDULES.items():
            if task not in app.tasks:
                result["skipped"].append(task)  # not built in this deployment: no row that would fail every run
                PeriodicTask.objects.filter(name=task, enabled=True).update(enabled=False, description=_DISABLED_NOTE)
                continue
            row = PeriodicTask.objects.select_for_update().filter(name=task).first()
            if row is None:
                PeriodicTask.objects.create(name=task, task=task, enabled=True, **_schedule_fields(spec))
                result["created"].append(task)
            elif reset:
                for field, value in {"task": task, "enabled": True, "description": "", **_schedule_fields(spec)}.items():
                    setattr(row, field, value)
                row.save()
                result["reset"].append(task)
            else:
                if not row.enabled and row.description == _DISABLED_NOTE:
                    row.enabled, row.description = True, ""  # its task is back: undo our own disabling only
                    row.save(update_fields=["enabled", "description"])
                result["kept"].append(task)
    return result
