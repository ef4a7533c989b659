"""System checks of the integrations app: production never runs with an account whose password is public."""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.db import DatabaseError

from integrations.demo_accounts import demo_passwords_in_use


@checks.register(checks.Tags.security)
def demo_passwords_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """With DJANGO_PRODUCTION=1, every manage.py command (migrate, check --deploy) fails while a superuser
    or a demo account logs in with a password from integrations/demo_accounts.py (printed by seed_demo, in
    this repository). Before the first migrate there is no user table yet: nothing to check."""
    if not settings.PRODUCTION:
        return []

    try:
        found = demo_passwords_in_use()
    except DatabaseError:
        return []
    return [checks.Error(f"The account {username!r} logs in with a demo password, which is published.",
                         hint="Set a new one: manage.py changepassword " + username, id="integrations.E001")
            for username in found]
