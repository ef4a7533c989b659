"""Measure what learning does to the drafts: pass rates before and after each kind of learning."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assistants.learning_eval import LEARNING_FILE, learning_eval, learning_report_lines
from customers.models import Customer


class Command(BaseCommand):
    help = ("Draft held-out emails, replay similar ones as agents and Ops would (approve or edit, accept correction "
            "candidates, publish FAQ proposals), draft them again; print pass rates per stage. Changes nothing: "
            "it runs in a transaction it rolls back. Run on the demo shop (manage.py seed_demo).")

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=LEARNING_FILE)
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("--fail-on-regression", action="store_true",
                            help="exit 1 if a golden case that passed before fails after learning")

    def handle(self, *args, file, json: bool, fail_on_regression: bool, **options):
        if not Customer.objects.filter(email="ada.lovelace@example.com").exists():
            raise CommandError("the demo shop is not loaded here: run `manage.py seed_demo` first")
        report = learning_eval(path=file)
        if json:
            self.stdout.write(_dumps(report.as_json()))
        else:
            self.stdout.write("\n".join(learning_report_lines(report)))
        if fail_on_regression and report.regressions():
            raise CommandError(f"learning made these golden cases fail: {', '.join(report.regressions())}")


def _dumps(data) -> str:
    return json.dumps(data, indent=2)
