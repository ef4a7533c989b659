"""Rebuild every Chroma collection from Postgres and the blob store (losing Chroma loses nothing)."""

from django.core.management.base import BaseCommand

from assistants.indexing import approved_replies_reindex
from integrations.shopify.faq_page import faq_reindex
from integrations.site.crawler import site_rehydrate


class Command(BaseCommand):
    help = "Re-index site snapshots, published FAQ entries and approved replies."

    def handle(self, *args, **options):
        site = site_rehydrate()
        faq = faq_reindex()
        replies = approved_replies_reindex()
        self.stdout.write(f"site chunks {site}, FAQ entries {faq}, approved replies {replies}")
