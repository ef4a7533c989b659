"""Make an API token for a user and print it once (only its digest is kept). Replaces DRF's command of the
same name, which stored tokens in plain text; `-r` (replace) is kept for scripts that pass it."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.services import api_token_create, api_token_revoke


class Command(BaseCommand):
    help = "Create an API token for USER (shown once; it expires after API_TOKEN_TTL_DAYS unless --days is given)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What or who will use it")
        parser.add_argument("--days", type=int, default=None, help="Days until it expires")
        parser.add_argument("-r", "--reset", action="store_true", help="Revoke the user's other tokens first")

    def handle(self, *args, username, name, days, reset, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1.")
        if reset:
            for token_id in user.api_tokens.filter(revoked_at__isnull=True).values_list("pk", flat=True):
                api_token_revoke(token_id=token_id)
        row, token = api_token_create(user=user, name=name, ttl_days=days)
        self.stdout.write(f"Generated token {token} for user {username} (expires {row.expires_at:%Y-%m-%d %H:%M} UTC).")
        self.stdout.write("It is shown only now: store it where it is needed. Use it as 'Authorization: Token <token>'.")
