"""Shared test set-up. Tests run on real Postgres and Redis (see the Makefile's defaults)."""

from __future__ import annotations

import pytest

from omnichannel import blobstore


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


@pytest.fixture
def agent_user(django_user_model):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username="agent", password="agent-pass-123", is_staff=True)
    group, _ = Group.objects.get_or_create(name="Agents")
    user.groups.add(group)
    return user
