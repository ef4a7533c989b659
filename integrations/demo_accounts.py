"""The demo accounts and their published passwords, apart from the demo shop's data.

`seed_demo` (integrations/demo.py) creates them; the production system check (integrations/checks.py)
refuses to start while an account logs in with one. The check runs on every manage.py command, so it
reads this small module, never the demo loader and the apps it imports.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.db import models

DEMO_USERS = {
    # username: (password, group, is_superuser)
    "agent": ("agent-demo-2026", "Agents", False),
    "ops": ("ops-demo-2026", "Ops", False),
    "admin": ("admin-demo-2026", None, True),
}


def demo_passwords_in_use() -> list[str]:
    """Active accounts that log in with a password published in this repository: a superuser with any
    demo password, or a demo account with its own. Checks hashes only (never rehashes or saves)."""
    found = []
    users = get_user_model().objects.filter(is_active=True).filter(
        models.Q(is_superuser=True) | models.Q(username__in=list(DEMO_USERS)))
    for user in users.only("username", "password", "is_superuser").order_by("pk"):
        candidates = ([p for p, _, _ in DEMO_USERS.values()] if user.is_superuser
                      else [DEMO_USERS[user.username][0]])
        if any(check_password(candidate, user.password) for candidate in candidates):
            found.append(user.username)
    return found
