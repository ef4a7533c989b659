from django.core.management.base import BaseCommand, CommandError

from integrations.demo import seed_demo
from omnichannel.errors import ApplicationError


class Command(BaseCommand):
    help = "Load the demo shop (customers, orders, inventory, conversations, FAQ, corrections) idempotently."

    def handle(self, *args, **options):
        try:
            report = seed_demo()
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        counts = ", ".join(f"{n} {kind}" for kind, n in report.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo shop loaded: {counts}."))
        self.stdout.write("Demo accounts (log in at /admin/):")
        for username, password in report.users.items():
            self.stdout.write(f"  {username:<6} password: {password}")
