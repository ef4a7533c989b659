"""Fixtures the drafting tests share."""

from __future__ import annotations

import pytest

from customers.selectors import customer_summary_refresh
from integrations.demo import seed_demo


@pytest.fixture
def demo_shop():
    """The demo shop's customers, orders, stock and pages, and the customer summary the debounced
    refresh_customer_summary task keeps after ingest."""
    seed_demo()
    customer_summary_refresh()
