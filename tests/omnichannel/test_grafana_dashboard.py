"""The Grafana dashboard (deploy/grafana/dashboards/omnichannel.json) asks Prometheus only for metrics the
project exports, except those its panels say are not exported yet."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conversations.metrics import OLDEST_WAIT
from omnichannel import metrics

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy/grafana/dashboards/omnichannel.json"
# Computed at scrape time from Postgres (omnichannel/metrics_view.py), and Prometheus' own ALERTS series.
SCRAPE_TIME = {"drafts_pending", "shopify_cursor_lag_seconds", "webhook_intake_oldest_waiting_seconds", "ALERTS"}
PROMQL_WORDS = {"sum", "max", "by", "rate", "increase", "histogram_quantile", "le", "source", "status", "kind",
                "task", "resource", "model", "alertname", "alertstate"}


def _exported() -> set[str]:
    names = SCRAPE_TIME | {OLDEST_WAIT}
    for value in vars(metrics).values():
        if hasattr(value, "_name"):
            base = value._name
            names |= {base, f"{base}_total", f"{base}_bucket", f"{base}_count", f"{base}_sum"}
    return names


def test_every_panel_queries_exported_metrics_or_says_which_is_not_exported_yet():
    dashboard = json.loads(DASHBOARD.read_text())
    exported = _exported()
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "prometheus"
        for target in panel["targets"]:
            expr = re.sub(r'"[^"]*"|\[[^\]]*\]|\{[^}]*\}', " ", target["expr"])
            words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expr)) - PROMQL_WORDS
            words = {w for w in words if not re.fullmatch(r"\d+[smhd]", w)}
            for name in words - exported:
                assert f"{name} is NOT EXPORTED YET" in panel["description"], (panel["title"], name)


def test_the_dashboard_shows_what_the_issue_asks_for():
    titles = " | ".join(panel["title"].lower() for panel in json.loads(DASHBOARD.read_text())["panels"])
    for topic in ("intake rate", "intake age", "drafts pending", "latency", "oldest customer wait", "sends and failures",
                  "model cost per day", "cursor lag", "dead letters"):
        assert topic in titles, topic
