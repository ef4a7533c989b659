import uuid

import pytest

from integrations.zoho.fake import FakeZoho


@pytest.fixture
def fake_zoho(settings):
    fake = FakeZoho()
    settings.ZOHO_MODE = "live"
    settings.ZOHO_BASE_URL = fake.url
    settings.ZOHO_ACCOUNTS_URL = fake.url
    # Unique per fake: the access token is cached in Redis by (accounts URL, refresh token), and a later
    # fake can get an earlier one's port; it must not inherit that fake's token (a 401, then a retry).
    settings.ZOHO_REFRESH_TOKEN = f"refresh-{fake.url}-{uuid.uuid4().hex}"
    settings.ZOHO_BACKOFF_SECONDS = 0.01
    settings.ZOHO_MAX_RETRY_AFTER_SECONDS = 1.0
    settings.ZOHO_TIMEOUT_SECONDS = 2.0
    yield fake
    fake.close()
