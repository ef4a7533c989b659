"""Metrics are not public, alerts fire exactly when their conditions hold, schedules are installed."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from integrations.models import ShopifyCursor
from omnichannel.alerts import alerts_evaluate
from omnichannel.models import AuditLog, WebhookDelivery
from tests.builders import make_draft

pytestmark = pytest.mark.django_db


def test_metrics_answer_the_allow_listed_address_and_refuse_others(client, settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    body = client.get("/metrics").content.decode()
    assert "records_ingested_total" in body and "drafts_pending" in body and "django_http_requests" in body
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403


def test_metrics_with_basic_auth(client, settings):
    settings.METRICS_BASIC_AUTH = "prom:s3cret"
    assert client.get("/metrics").status_code == 401
    good = base64.b64encode(b"prom:s3cret").decode()
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {good}").status_code == 200


def test_alerts_are_quiet_on_a_healthy_shop(settings):
    ShopifyCursor.objects.create(resource="orders", last_delta_at=timezone.now())
    make_draft()
    assert alerts_evaluate() == []
    call_command("check_alerts")  # exits 0


def test_each_alert_fires_on_a_fixture_built_to_trip_it(settings):
    settings.ALERT_PENDING_DRAFTS_MAX = 2
    ShopifyCursor.objects.create(resource="orders", last_delta_at=timezone.now() - timedelta(minutes=16))
    WebhookDelivery.objects.create(source="zoho", external_id="m1", body=b"{}", status="failed", attempts=3)
    WebhookDelivery.objects.create(source="zoho", external_id="m2", body=b"{}", status="failed", attempts=1)
    for _ in range(3):
        make_draft()
    names = {a.name for a in alerts_evaluate()}
    assert names == {"ShopifyCursorStale", "WebhookDeliveriesFailing", "TooManyPendingDrafts"}
    with pytest.raises(CommandError, match="3 alert"):
        call_command("check_alerts")
    assert AuditLog.objects.filter(event_type="alert.firing").count() == 3


def test_the_prometheus_rules_parse_and_name_real_metrics():
    rules = yaml.safe_load((Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml").read_text())
    alerts = {rule["alert"]: rule for group in rules["groups"] for rule in group["rules"]}
    assert set(alerts) == {"ShopifyCursorStale", "WebhookDeliveriesFailing", "TooManyPendingDrafts",
                           "WebhookIntakeStalled", "ReplySendFailed", "DraftsFailingToSend"}
    assert "webhook_intake_oldest_waiting_seconds" in alerts["WebhookIntakeStalled"]["expr"]
    assert "shopify_cursor_lag_seconds" in alerts["ShopifyCursorStale"]["expr"]
    # Every source's failures: no source="zoho" filter left.
    assert "webhook_deliveries_total" in alerts["WebhookDeliveriesFailing"]["expr"]
    assert "source=" not in alerts["WebhookDeliveriesFailing"]["expr"]
    assert "sends_failed_total" in alerts["ReplySendFailed"]["expr"]
    assert "drafts_send_failed" in alerts["DraftsFailingToSend"]["expr"]
    assert "drafts_pending" in alerts["TooManyPendingDrafts"]["expr"]
    for rule in alerts.values():
        assert rule["labels"]["severity"] and rule["annotations"]["summary"]


def test_migrate_installed_the_schedules_of_registered_tasks():
    names = set(PeriodicTask.objects.filter(enabled=True).values_list("name", flat=True))
    assert {"check_alerts", "zoho_sync", "shopify_backfill"} <= names
    call_command("install_schedules")  # idempotent
    assert PeriodicTask.objects.filter(name="check_alerts").count() == 1


def test_install_schedules_keeps_what_ops_changed_in_the_admin_unless_reset(capsys):
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule

    # Ops move the alerts to every 10 minutes, the backfill to 04:15, and pause the Zoho poll.
    every_ten, _ = IntervalSchedule.objects.get_or_create(every=600, period=IntervalSchedule.SECONDS)
    quarter_past_four, _ = CrontabSchedule.objects.get_or_create(minute="15", hour="4", day_of_week="*",
                                                                 day_of_month="*", month_of_year="*", timezone="UTC")
    PeriodicTask.objects.filter(name="check_alerts").update(interval=every_ten)
    PeriodicTask.objects.filter(name="shopify_backfill").update(crontab=quarter_past_four)
    PeriodicTask.objects.filter(name="zoho_sync").update(enabled=False)
    PeriodicTask.objects.filter(name="backup_db").delete()  # and one row went missing

    call_command("install_schedules")  # what every migrate runs
    assert "created: backup_db" in capsys.readouterr().out
    assert PeriodicTask.objects.get(name="check_alerts").interval.every == 600
    assert PeriodicTask.objects.get(name="shopify_backfill").crontab.hour == "4"
    assert not PeriodicTask.objects.get(name="zoho_sync").enabled
    assert PeriodicTask.objects.get(name="backup_db").crontab.minute == "30"  # the missing one is back

    call_command("install_schedules", "--reset")
    assert PeriodicTask.objects.get(name="check_alerts").interval.every == 300
    backfill = PeriodicTask.objects.get(name="shopify_backfill").crontab
    assert (backfill.minute, backfill.hour) == ("30", "2")
    assert PeriodicTask.objects.get(name="zoho_sync").enabled
    assert PeriodicTask.objects.filter(name="check_alerts").count() == 1
