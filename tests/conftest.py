"""Shared test set-up. Tests run on real Postgres and Redis (see the Makefile's defaults)."""

from __future__ import annotations

import pytest

from omnichannel import blobstore

# Fixtures any test may use, wherever it lives: `page` and `fake_zoho` (browser), `celery_worker_process`.
pytest_plugins = ["tests.browser", "tests.workers"]


@pytest.fixture(autouse=True)
def _isolated_blob_store(settings, tmp_path):
    """Each test gets its own blob directory, so content-addressed keys never leak between tests."""
    settings.BLOB_ROOT = tmp_path / "blobs"
    blobstore.get_storage.cache_clear()
    yield
    blobstore.get_storage.cache_clear()


@pytest.fixture(autouse=True)
def _isolated_chroma(settings, tmp_path):
    """Each test gets its own embedded Chroma directory: the index is derived data, never shared."""
    settings.CHROMA_PATH = str(tmp_path / "chroma")
    settings.CHROMA_HOST = ""
    yield


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """moto's standalone S3 server in its own process, one per session (tests/s3_server.py)."""
    from tests.s3_server import S3Server

    server = S3Server(tmp_path_factory.mktemp("s3") / "moto_server.log")
    yield server
    server.stop()


@pytest.fixture
def s3_blob_store(settings, s3_server):
    """The blob store on a fresh bucket of the real S3 server, configured as production configures it."""
    bucket = s3_server.new_bucket()
    settings.BLOB_BUCKET = bucket
    settings.BLOB_ENDPOINT_URL = s3_server.endpoint_url
    settings.BLOB_REGION = "us-east-1"
    settings.BLOB_ACCESS_KEY_ID = "test-access-key"
    settings.BLOB_SECRET_ACCESS_KEY = "test-secret-key"
    settings.BLOB_PREFIX = ""
    blobstore.get_storage.cache_clear()
    yield bucket
    blobstore.get_storage.cache_clear()


@pytest.fixture
def agent_user(django_user_model):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username="agent", password="agent-pass-123", is_staff=True)
    group, _ = Group.objects.get_or_create(name="Agents")
    user.groups.add(group)
    return user
