"""Crawl the store's own website into snapshots and the site index."""

import sys

import requests
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from integrations.site.crawler import crawl_session, site_crawl
from integrations.site.sitemap import sitemap_urls


class Command(BaseCommand):
    help = "Fetch the shop's pages (same host, robots.txt respected), keep snapshots, index their text in Chroma."

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, help="the first URL, e.g. https://shop.example/")
        parser.add_argument("--sitemap", help="a sitemap.xml whose URLs are crawled too")
        parser.add_argument("--max-pages", type=int, default=200)
        parser.add_argument("--delay", type=float, default=1.0, help="seconds between requests (politeness)")
        parser.add_argument("--allow-private", action="store_true",
                            help="crawl a site on a private or loopback address (an internal network, a test)")

    def handle(self, *args, start, sitemap, max_pages, delay, allow_private, **options):
        if not start.startswith(("http://", "https://")):
            raise CommandError(f"--start {start!r} is not an http(s) URL")
        # The sitemap is fetched with the crawl's guards too: its address (and each redirect's) checked and pinned.
        try:
            extra = sitemap_urls(sitemap, session=crawl_session(allow_private=allow_private)) if sitemap else []
        except (requests.RequestException, ValueError) as exc:  # FetchRefused is a ValueError
            raise CommandError(f"--sitemap {sitemap}: {exc}") from exc
        bar = tqdm(total=max_pages, desc="pages", unit="page", disable=not sys.stderr.isatty())
        report = site_crawl(start=start, max_pages=max_pages, delay=delay, extra_urls=extra,
                            progress=lambda _url: bar.update(1), allow_private=allow_private)
        bar.close()
        self.stdout.write(f"fetched {report.fetched}, unchanged {report.unchanged}, failed {len(report.failed)}, "
                          f"chunks {report.chunks}, disallowed by robots.txt {report.skipped_by_robots}")
        for url in report.failed:
            self.stdout.write(f"  failed: {url}")
