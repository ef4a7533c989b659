from django.core.management.base import BaseCommand

from omnichannel.schedules import schedules_install


class Command(BaseCommand):
    help = "Write every periodic job into django-celery-beat (idempotent; run at deploy, also after migrate)."

    def handle(self, *args, **options):
        result = schedules_install()
        self.stdout.write(f"installed: {', '.join(result['installed']) or '-'}")
        if result["skipped"]:
            self.stdout.write(f"not installed (task not registered here): {', '.join(result['skipped'])}")
