from django.core.management.base import BaseCommand, CommandError

from integrations.demo import seed_demo
from integrations.demo_history import seed_history
from omnichannel.errors import ApplicationError


class Command(BaseCommand):
    help = "Load the demo shop (customers, orders, inventory, conversations, FAQ, corrections) idempotently."

    def add_arguments(self, parser):
        parser.add_argument("--history", action="store_true",
                            help="also load past conversations with approved and edited replies "
                                 "(fixtures/demo_history.json), so FAQ proposals and correction candidates show")

    def handle(self, *args, history: bool = False, **options):
        try:
            report = seed_demo()
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        counts = ", ".join(f"{n} {kind}" for kind, n in report.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo shop loaded: {counts}."))
        if history:
            past = seed_history()
            self.stdout.write(self.style.SUCCESS(
                f"History loaded: {past.conversations} past conversations ({past.edited} replies edited by the agent, "
                f"{past.approved} approved as drafted; {past.skipped} already there), {past.proposals} new FAQ "
                "proposal(s)."))
        self.stdout.write("Demo accounts (log in at /admin/):")
        for username, password in report.users.items():
            self.stdout.write(f"  {username:<6} password: {password}")
