"""Customer mail as an agent reads it: the new text apart from the quoted history, and HTML mail
rendered faithfully but inert (sanitized, in a sandboxed frame, remote images off until asked)."""

from __future__ import annotations

import re
from html import escape

import nh3
from lxml import html as lxml_html

from omnichannel.html_depth import html_nesting_capped

# Where quoted history starts in the mail clients our customers use (their own words come first).
_QUOTE_START = re.compile(
    r"^(?:On .{4,200}wrote:|Am .{4,200}schrieb .{1,200}:|El .{4,200}escribió:|Le .{4,200}a écrit\s?:"
    r"|-{2,} ?Original Message ?-{2,}|-{2,} ?Ursprüngliche Nachricht ?-{2,}|From: .+\n(?:Sent|Date): .+)",
    re.IGNORECASE | re.MULTILINE,
)


def split_quoted(text: str) -> tuple[str, str]:
    """(the customer's new text, the quoted history) of a plain-text email."""
    text = text or ""
    cut = len(text)
    match = _QUOTE_START.search(text)
    if match:
        cut = match.start()
    quoted_lines = re.search(r"^>.*(?:\n>.*|\n\s*)*\Z", text, re.MULTILINE)
    if quoted_lines and quoted_lines.start() < cut:
        cut = quoted_lines.start()
    return text[:cut].rstrip(), text[cut:].strip()


_TAGS = nh3.ALLOWED_TAGS | {"details", "summary"}
_ATTRIBUTES = {**nh3.ALLOWED_ATTRIBUTES, "td": {"colspan", "rowspan", "align"}, "th": {"colspan", "rowspan", "align"},
               "img": {"src", "alt", "width", "height"}, "a": {"href", "title"}}
_FRAME_STYLE = ("body{font:14px/1.45 system-ui,sans-serif;margin:8px;color:#222;overflow-wrap:break-word}"
                "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 6px;vertical-align:top}"
                "img{max-width:100%}summary{color:#666;cursor:pointer}details{margin-top:8px}")


def _collapse_quotes(html: str) -> str:
    """Wrap quoted history (blockquotes, Gmail and Outlook quote blocks) in <details>."""
    try:
        root = lxml_html.fragment_fromstring(html, create_parent="div")
    except (ValueError, lxml_html.etree.ParserError):
        return html
    quotes = root.xpath("//blockquote[not(ancestor::blockquote)] | //div[contains(@class,'gmail_quote')]"
                        " | //div[@id='divRplyFwdMsg'] | //div[@id='appendonsend']")
    for quote in quotes:
        if any(ancestor.tag == "details" for ancestor in quote.iterancestors()):
            continue
        details = lxml_html.Element("details")
        summary = lxml_html.Element("summary")
        summary.text = "Quoted history"
        quote.addprevious(details)
        details.append(summary)
        details.append(quote)
    return lxml_html.tostring(root, encoding="unicode")


def email_frame_document(html: str, *, load_images: bool = False) -> str:
    """A whole document for an iframe's srcdoc: sanitized, quotes collapsed, its own CSP. Scripts
    cannot run (nh3 drops them and the frame is sandboxed without allow-scripts); remote images,
    which tell the sender when and where an agent read the mail, load only when asked."""
    cleaned = nh3.clean(_collapse_quotes(html_nesting_capped(html)), tags=_TAGS, attributes=_ATTRIBUTES,
                        link_rel="noopener noreferrer nofollow", url_schemes={"http", "https", "mailto", "cid"},
                        set_tag_attribute_values={"a": {"target": "_blank"}})
    images = "http: https: data:" if load_images else "data:"
    policy = f"default-src 'none'; img-src {images}; style-src 'unsafe-inline'"
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{escape(policy)}">'
            f'<style>{_FRAME_STYLE}</style></head><body>{cleaned}</body></html>')


def has_remote_images(html: str) -> bool:
    return bool(re.search(r"<img[^>]+src\s*=\s*[\"']?\s*https?:", html or "", re.IGNORECASE))
