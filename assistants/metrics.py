"""Counters of what the assistant produced and what it cost, for the dashboard (deploy/grafana/).

- `drafts_sent_total`: drafts whose reply was sent (the draft turned `sent`).
- `model_cost_usd_total{model}`: ModelRun.cost_usd of every drafting call, by model slug (the
  dashboard's cost per day is `increase(...[1d])`).

Both are counted from model signals after the transaction commits, so the drafting and sending code
is not touched and a rolled-back send or run is not counted. Each process counts its own (Celery
workers serve theirs on their own scrape port, omnichannel/metrics_view.py `worker_metrics_serve`).
Connected once by AssistantsConfig.ready (`metrics_signals_connect`). A `.update()` that bypasses
`save()` is not seen: the send path marks a draft sent with `save(update_fields=[..."status"...])`.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save, pre_save
from prometheus_client import Counter

drafts_sent_total = Counter("drafts_sent", "Drafts whose reply was sent")
model_cost_usd_total = Counter("model_cost_usd", "Cost of drafting model calls, USD (ModelRun.cost_usd)", ["model"])


def _draft_saving(sender, instance, update_fields=None, **kwargs) -> None:
    """Remember whether this save turns the draft `sent` (a later save of a sent draft is no new send)."""
    from conversations.models import Draft

    turning = instance.status == Draft.Status.SENT and (update_fields is None or "status" in update_fields)
    if turning and instance.pk is not None:  # one query, only for a save that writes status `sent`
        turning = not Draft.objects.filter(pk=instance.pk, status=Draft.Status.SENT).exists()
    instance._metrics_turning_sent = turning


def _draft_saved(sender, instance, created, **kwargs) -> None:
    if getattr(instance, "_metrics_turning_sent", False):
        instance._metrics_turning_sent = False
        transaction.on_commit(drafts_sent_total.inc)


def _model_run_saved(sender, instance, created, **kwargs) -> None:
    if not created:
        return
    model, cost = instance.model_slug or "unknown", float(instance.cost_usd or 0)
    transaction.on_commit(lambda: model_cost_usd_total.labels(model=model).inc(cost))


def metrics_signals_connect() -> None:
    from assistants.models import ModelRun
    from conversations.models import Draft

    pre_save.connect(_draft_saving, sender=Draft, dispatch_uid="assistants.metrics.drafts_sending")
    post_save.connect(_draft_saved, sender=Draft, dispatch_uid="assistants.metrics.drafts_sent")
    post_save.connect(_model_run_saved, sender=ModelRun, dispatch_uid="assistants.metrics.model_cost")
