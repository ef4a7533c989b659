"""Mirror corrections.yaml and the Correction rows, both ways."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from faq.corrections_yaml import corrections_export, corrections_import
from omnichannel.errors import InvalidPayload


class Command(BaseCommand):
    help = "--import FILE (all or nothing; changed corrections re-draft what they touch) or --export FILE."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--import", dest="import_path", type=Path)
        group.add_argument("--export", dest="export_path", type=Path)

    def handle(self, *args, import_path, export_path, **options):
        if export_path:
            export_path.write_text(corrections_export())
            self.stdout.write(f"wrote {export_path}")
            return
        try:
            counts = corrections_import(import_path.read_text())
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{import_path}: {exc}") from exc
        except InvalidPayload as exc:
            raise CommandError(f"{import_path}: {exc.message}; nothing was imported") from exc
        self.stdout.write(", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no corrections in the file")
