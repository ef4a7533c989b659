from django.core.management.base import BaseCommand

from omnichannel.schedules import schedules_install


class Command(BaseCommand):
    help = ("Create the missing periodic jobs in django-celery-beat (run at deploy, also after migrate); "
            "existing rows keep what Ops set in the admin unless --reset.")

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true",
                            help="write the code's schedule over existing rows too (undoes admin changes)")

    def handle(self, *args, reset, **options):
        result = schedules_install(reset=reset)
        self.stdout.write(f"created: {', '.join(result['created']) or '-'}")
        if result["reset"]:
            self.stdout.write(f"reset to the code's schedule: {', '.join(result['reset'])}")
        if result["kept"]:
            self.stdout.write(f"kept as set in the admin: {', '.join(result['kept'])}")
        if result["skipped"]:
            self.stdout.write(f"not installed (task not registered here): {', '.join(result['skipped'])}")
