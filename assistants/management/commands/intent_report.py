"""Precision, recall and F1 of the intent model on its held-out examples, per intent and per language."""

from django.core.management.base import BaseCommand

from assistants.intent_evaluation import SPLIT_SEED, intent_model_evaluate


class Command(BaseCommand):
    help = ("Train the intent model on 80% of assistants/data/intent_examples.yaml (a seeded split, stratified by "
            "intent and language) and print precision, recall and F1 on the other 20%.")

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=SPLIT_SEED, help=f"split seed (default {SPLIT_SEED})")
        parser.add_argument("--errors", action="store_true", help="also list the held-out requests it got wrong")

    def handle(self, *args, seed, errors, **options):
        report = intent_model_evaluate(seed=seed)
        out = self.stdout.write
        out(f"intent model: trained on {report.trained_on} requests, scored on {report.held_out} held out "
            f"(seed {seed}, stratified by intent and language)\n")
        out(f"{'intent':<18} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}")
        for row in [*report.intents, report.macro]:
            out(f"{row.label:<18} {row.precision:>9.2f} {row.recall:>7.2f} {row.f1:>6.2f} {row.support:>8}")
        out(f"\n{'language':<18} {'precision':>9} {'recall':>7} {'f1':>6} {'accuracy':>9} {'support':>8}")
        for row in report.languages:
            out(f"{row.label:<18} {row.precision:>9.2f} {row.recall:>7.2f} {row.f1:>6.2f} {row.accuracy:>9.2f} "
                f"{row.support:>8}")
        out("(per language: macro averages over the intents of that language's held-out requests)\n")
        out(f"accuracy {report.accuracy:.3f}   on the drafter's six intents {report.draft_accuracy:.3f}")
        if errors:
            out("\nwrong on:")
            for example, intent, probability in report.errors:
                out(f"  [{example.language}] {example.intent} -> {intent} ({probability:.2f}): {example.text}")
