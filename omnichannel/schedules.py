"""Every periodic job, written into django-celery-beat by `install_schedules` (run at deploy and
after migrate), so schedules live in code review and not only in someone's admin clicks."""

from __future__ import annotations

from django.db import transaction

# task name -> (crontab fields minute, hour, day_of_week) or ("every", seconds); one comment per cron.
SCHEDULES = {
    "check_alerts": ("every", 300),  # the seed's alerts, every 5 minutes
    "ensure_drafts": ("every", 600),  # re-request drafts whose generate_draft task was lost
    "replay_stalled_deliveries": ("every", 600),  # re-queue stored webhooks whose processing task was lost
    "zoho_sync": ("every", 300),  # Zoho does not promise webhook delivery: poll as the fallback
    "shopify_backfill": ("30", "2", "*"),  # nightly reconciliation at 02:30 UTC
    "refresh_customer_summary": ("every", 900),  # the read model, in case a debounced refresh was lost
    "archive_conversations": ("0", "3", "*"),  # retention, nightly
    "backup_db": ("30", "3", "*"),  # nightly pg_dump
    "mine_demand": ("0", "5", "1"),  # weekly demand report, Mondays
    "propose_faq": ("30", "5", "1"),  # weekly FAQ proposals, Mondays
}


def schedules_install() -> dict[str, list[str]]:
    """Create or update the beat rows of every registered task; disable rows of tasks gone missing."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    from omnichannel.celery import app

    app.loader.import_default_modules()
    installed, skipped = [], []
    with transaction.atomic():
        for task, spec in SCHEDULES.items():
            if task not in app.tasks:
                skipped.append(task)  # not built in this deployment: no row that would fail every run
                PeriodicTask.objects.filter(name=task).update(enabled=False)
                continue
            if spec[0] == "every":
                interval, _ = IntervalSchedule.objects.get_or_create(every=spec[1], period=IntervalSchedule.SECONDS)
                defaults = {"task": task, "interval": interval, "crontab": None, "enabled": True}
            else:
                minute, hour, day_of_week = spec
                crontab, _ = CrontabSchedule.objects.get_or_create(minute=minute, hour=hour, day_of_week=day_of_week,
                                                                   day_of_month="*", month_of_year="*", timezone="UTC")
                defaults = {"task": task, "crontab": crontab, "interval": None, "enabled": True}
            PeriodicTask.objects.update_or_create(name=task, defaults=defaults)
            installed.append(task)
    return {"installed": installed, "skipped": skipped}
