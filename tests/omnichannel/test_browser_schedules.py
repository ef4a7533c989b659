"""Ops edit a schedule (django-celery-beat's periodic task form) in a real headless Chromium: the form's
own script runs under our Content-Security-Policy (it was blocked: no nonce), so the crontab reads in words."""

from __future__ import annotations

import os

import pytest
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from tests.browser import CHROMIUM, login
from tests.builders import make_staff

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


def test_the_periodic_task_form_runs_its_script_and_explains_the_crontab(page, live_server):
    crontab = CrontabSchedule.objects.create(minute="30", hour="6", day_of_week="1-5", day_of_month="*",
                                             month_of_year="*")
    task = PeriodicTask.objects.create(name="Morning digest for the team", task="send_digest", crontab=crontab)
    make_staff("Ops", "margaret", password="ops-pass-2026")
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, live_server, "margaret", "ops-pass-2026")
    page.goto(f"{live_server.url}/admin/django_celery_beat/periodictask/{task.pk}/change/")
    page.wait_for_selector("#id_crontab")
    page.select_option("#id_crontab", str(crontab.pk))
    page.dispatch_event("#id_crontab", "change")
    page.wait_for_function("() => document.querySelector('.field-crontab .help').textContent.includes('Translation:')")
    assert page.locator(".field-crontab_translation").is_hidden()
    assert errors == []
