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
        assert env["BLOB_ACCESS_KEY_ID"] and env["BLOB_SECRET_ACCESS_KEY"], name
        assert service["depends_on"]["minio-init"] == {"condition": "service_completed_successfully"}, name
        # No blob volume on an app container: a replica's disk holds nothing another needs.
        assert not service.get("volumes"), name
    assert "mc mb --ignore-existing local/omnichannel" in " ".join(compose["services"]["minio-init"]["command"])
