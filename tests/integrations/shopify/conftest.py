import json
from pathlib import Path

import pytest

from integrations.shopify.fake import FakeShop

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def fake_shop(settings):
    shop = FakeShop()
    settings.SHOPIFY_MODE = "live"
    settings.SHOPIFY_BASE_URL = shop.url
    settings.SHOPIFY_BACKOFF_SECONDS = 0.01
    settings.SHOPIFY_MAX_RETRY_AFTER_SECONDS = 0.05
    settings.SHOPIFY_PACE_SECONDS = 0.0
    settings.SHOPIFY_TIMEOUT_SECONDS = 5.0
    yield shop
    shop.close()
