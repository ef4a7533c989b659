"""Serving a customer's attachment to an agent without letting it run in the agent's session.

An attachment is hostile content: a `damage-photo.jpg` can hold HTML and script. So it is always
a download (`Content-Disposition: attachment`), its type comes from its bytes and only from an
allowlist of image and PDF signatures (never from the name or the sender's claimed type, and
never SVG, which is a document that runs script), everything else is `application/octet-stream`,
and every response carries `nosniff` and a sandboxing Content-Security-Policy so that even a
browser that renders it treats it as an opaque, script-less origin.
"""

from __future__ import annotations

import re
import unicodedata

from django.http import HttpResponse
from django.utils.http import content_disposition_header

# Magic numbers of the types an agent may open in the browser (an <img> preview, the PDF viewer).
_SIGNATURES: list[tuple[bytes, int, str]] = [  # (prefix, offset, content type)
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),  # RIFF....WEBP
    (b"%PDF-", 0, "application/pdf"),
]
OPAQUE = "application/octet-stream"
_UNSAFE_NAME_CHARS = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')


def attachment_content_type(data: bytes) -> str:
    """The type the bytes prove, from the allowlist; anything else is an opaque download."""
    for prefix, offset, content_type in _SIGNATURES:
        if data[offset:offset + len(prefix)] == prefix and (content_type != "image/webp" or data[:4] == b"RIFF"):
            return content_type
    return OPAQUE


# Invisible characters that change how a name reads: a right-to-left override (U+202E) shows
# "invoice\u202egpj.exe" as "invoiceexe.jpg"; zero-width and C1 controls hide in plain sight.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}
_MAX_NAME, _MAX_EXTENSION = 150, 16


def attachment_filename(name: str | None) -> str:
    """A file name safe for a header and a download folder: no path, no control or invisible
    characters, and a long name cut in its stem so the download keeps the extension it shows."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME_CHARS.sub("_", name)
    name = "".join(char for char in name if unicodedata.category(char) not in _INVISIBLE_CATEGORIES).strip(" ._")
    if len(name) > _MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        kept = f"{dot}{extension}" if dot and stem and len(extension) <= _MAX_EXTENSION else ""
        name = name[:_MAX_NAME - len(kept)].rstrip(" ._") + kept
    return name or "attachment"


def attachment_response(*, data: bytes, name: str | None) -> HttpResponse:
    response = HttpResponse(data, content_type=attachment_content_type(data))
    # Django's helper writes the RFC 6266 header, with filename* for names outside ASCII.
    response["Content-Disposition"] = content_disposition_header(True, attachment_filename(name))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response
