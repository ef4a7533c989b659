"""A quick end-to-end look at a running configuration: /readyz and one admin page answer 200."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.test import Client


class Command(BaseCommand):
    help = "Check that /healthz, /readyz and the admin index answer 200 (used by CI's embedded smoke run)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="agent", help="An existing staff user to log in as")

    def handle(self, *args, username, **options):
        client = Client()
        failures = []
        for url in ("/healthz", "/readyz"):
            response = client.get(url)
            self.stdout.write(f"{url}: {response.status_code} {response.content[:200].decode(errors='replace')}")
            if response.status_code != 200:
                failures.append(url)
        user = get_user_model().objects.filter(username=username, is_staff=True).first()
        if user is None:
            raise CommandError(f"No staff user {username!r}: run seed_demo first.")
        client.force_login(user)
        for url in ("/admin/", "/admin/conversations/draft/?status__exact=pending", "/admin/conversations/conversation/"):
            response = client.get(url)
            self.stdout.write(f"{url} as {username}: {response.status_code}")
            if response.status_code != 200:
                failures.append(url)
        if failures:
            raise CommandError(f"Smoke check failed for: {', '.join(failures)}")
        self.stdout.write(self.style.SUCCESS("Smoke check passed."))
