"""model_cost_usd_total{model}: ModelRun.cost_usd of every drafting call, by model slug (the dashboard's
cost per day is `increase(...[1d])`).

Counted from the assistants' own ModelRun post_save after the transaction commits, so every run is
counted wherever it is recorded and a rolled-back run is not. Each process counts its own (Celery workers
serve theirs on their own scrape port, omnichannel/metrics_view.py `worker_metrics_serve`). Connected once
by AssistantsConfig.ready (`metrics_signals_connect`). `drafts_sent_total` is counted by the send service
itself (conversations/services/sending.py `draft_mark_sent`).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save

from assistants.models import ModelRun
from omnichannel.metrics import model_cost_usd_total


def _model_run_saved(sender, instance, created, **kwargs) -> None:
    if not created:
        return
    model, cost = instance.model_slug or "unknown", float(instance.cost_usd or 0)
    transaction.on_commit(lambda: model_cost_usd_total.labels(model=model).inc(cost))


def metrics_signals_connect() -> None:
    post_save.connect(_model_run_saved, sender=ModelRun, dispatch_uid="assistants.metrics.model_cost")
