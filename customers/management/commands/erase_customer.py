"""Erase one customer's personal data everywhere (an erasure request). Destructive: needs --yes."""

from django.core.management.base import BaseCommand, CommandError

from customers.services_erasure import customer_erase
from omnichannel.errors import ApplicationError


class Command(BaseCommand):
    help = "Blank a customer's PII in every table (ids, counts and metrics stay). Dry run unless --yes."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--yes", action="store_true", help="really erase (otherwise only say what would happen)")

    def handle(self, *args, email, yes, **options):
        if not yes:
            self.stdout.write(f"Dry run: would erase every record of {email}. Run again with --yes to erase.")
            return
        try:
            report = customer_erase(email=email)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write("erased: " + ", ".join(f"{k} {v}" for k, v in report.counts.items()))
