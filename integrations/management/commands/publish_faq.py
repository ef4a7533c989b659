"""Render the published FAQ entries and push the page to the shop if it changed."""

from django.core.management.base import BaseCommand, CommandError

from integrations.shopify.client import ShopifyError
from integrations.shopify.faq_page import faq_page_publish


class Command(BaseCommand):
    help = "Publish the FAQ page to Shopify (create once, update afterwards; no call when nothing changed)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="push even when the page did not change")

    def handle(self, *args, force, **options):
        try:
            outcome = faq_page_publish(force=force)
        except ShopifyError as exc:
            raise CommandError(f"Shopify: {exc}") from exc
        self.stdout.write(f"FAQ page {outcome.status}: page {outcome.page_id}, {outcome.entries} entries")
