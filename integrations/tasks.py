"""Celery discovers tasks in `<app>.tasks`; the providers' tasks live beside their code."""

from integrations.intake import drain_webhook_deliveries  # noqa: F401
from integrations.replay import replay_stalled_deliveries  # noqa: F401
from integrations.shopify.tasks import *  # noqa: F401,F403
from integrations.site.tasks import *  # noqa: F401,F403
from integrations.zoho.tasks import *  # noqa: F401,F403

