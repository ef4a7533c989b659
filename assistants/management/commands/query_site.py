"""Ask the site index a question: the top chunks with their scores and URLs."""

from django.core.management.base import BaseCommand

from assistants.vectorstore import SITE, index_count, index_query


class Command(BaseCommand):
    help = "Print the website chunks closest to a question (built by `manage.py ingest_site`)."

    def add_arguments(self, parser):
        parser.add_argument("question")
        parser.add_argument("-n", type=int, default=5, help="how many chunks (default 5)")

    def handle(self, *args, question, n, **options):
        if index_count(SITE) == 0:
            self.stdout.write("The site index is empty: run `manage.py ingest_site --start URL` first.")
            return
        for rank, hit in enumerate(index_query(SITE, question, n=n), start=1):
            self.stdout.write(f"{rank}. {hit.score:.3f}  {hit.metadata.get('url', '?')}")
            self.stdout.write("   " + " ".join(hit.text.split())[:300])
