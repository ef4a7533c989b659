"""docker-compose.yml's topology, read as YAML (no Docker on CI machines): what `docker compose config`
would show. Compose's own merge keys (`<<: *app`) are resolved by PyYAML the same way."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_COMMANDS = ("gunicorn", "celery")


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _app_services(compose: dict) -> dict[str, dict]:
    return {name: service for name, service in compose["services"].items()
            if str(service.get("command", "")).startswith(APP_COMMANDS)}


def test_minio_runs_and_every_web_and_worker_container_points_at_its_bucket():
    compose = _compose()
    assert compose["services"]["minio"]["image"].startswith("minio/minio:")
    apps = _app_services(compose)
    assert {"web", "beat"} <= set(apps)
    for name, service in apps.items():
        env = service["environment"]
        assert env["BLOB_BUCKET"] == "omnichannel", name
        assert env["BLOB_ENDPOINT_URL"] == "http://minio:9000", name
        assert service["env_file"] == [".env.production"], name  # BLOB_ACCESS_KEY_ID and its secret, no defaults
        assert service["depends_on"]["minio-init"] == {"condition": "service_completed_successfully"}, name
        # No blob volume on an app container: a replica's disk holds nothing another needs.
        assert not service.get("volumes"), name
    assert "mc mb --ignore-existing local/omnichannel" in " ".join(compose["services"]["minio-init"]["command"])


def test_prometheus_and_grafana_are_provisioned_with_the_rules_and_the_dashboard():
    compose = _compose()
    prometheus, grafana = compose["services"]["prometheus"], compose["services"]["grafana"]
    assert "./deploy/prometheus:/etc/prometheus/omnichannel:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/omnichannel/prometheus.yml" in prometheus["command"]
    assert prometheus["configs"][0]["target"] == "/etc/prometheus/metrics_password"  # prometheus.yml's password_file
    assert "metrics_password" in (ROOT / "deploy/prometheus/prometheus.yml").read_text()
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro" in grafana["volumes"]
    provider = yaml.safe_load((ROOT / "deploy/grafana/provisioning/dashboards/omnichannel.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    source = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    assert source["datasources"][0]["url"] == "http://prometheus:9090"
