"""URLs listed in a sitemap.xml (https://www.sitemaps.org/protocol.html)."""

from __future__ import annotations

import lxml.etree
import requests


def sitemap_urls(url: str, *, session: requests.Session | None = None, timeout: float = 10.0) -> list[str]:
    response = (session or requests).get(url, timeout=timeout)
    response.raise_for_status()
    root = lxml.etree.fromstring(response.content, parser=lxml.etree.XMLParser(resolve_entities=False, no_network=True))
    return [loc.text.strip() for loc in root.iter("{*}loc") if loc.text]
