"""An inbound email's own new text: quoted history, quote lines and the signature cut (`email_clean`),
and the message a customer forwards read without its headers (`forwarded_clean`). Step 1 of
assistants/requests.py."""

from __future__ import annotations

import re

_REPLY_HEADER = re.compile(
    r"^(?:On\s.{0,300}\bwrote:|Am\s.{0,300}\bschrieb\b.{0,300}:|El\s.{0,300}\bescribió:|Le\s.{0,300}\ba\s+écrit\s*:)$",
    re.IGNORECASE)
_SEPARATOR = re.compile(
    r"^(?:-{2,}\s*(?:original message|ursprüngliche nachricht|mensaje original|message d'origine|forwarded message|"
    r"weitergeleitete nachricht|mensaje reenviado|message transféré)\s*-{2,}|_{10,})$", re.IGNORECASE)
_HEADER_FROM = re.compile(r"^(?:from|von|de)\s*:\s*\S", re.IGNORECASE)
_HEADER_SENT = re.compile(r"^(?:sent|gesendet|enviado|envoyé|date|datum|fecha)\s*:\s*\S", re.IGNORECASE)
_MOBILE = re.compile(
    r"^(?:sent from my\s|sent from (?:mail|outlook|yahoo)|get outlook for\s|von meinem\s.+\sgesendet|"
    r"gesendet von meinem\s|enviado desde mi\s|envoyé de mon\s)", re.IGNORECASE)
_CLOSINGS = (
    # en
    "best regards", "kind regards", "warm regards", "warmest regards", "regards", "best wishes", "all the best", "best",
    "cheers", "thanks", "thank you", "many thanks", "thanks again", "thanks in advance", "thanks so much",
    "thank you so much", "thanks a lot", "thank you in advance", "thx", "sincerely", "yours sincerely",
    "yours faithfully", "yours",
    # de
    "mit freundlichen grüßen", "mit freundlichen grüssen", "freundliche grüße", "freundliche grüsse", "viele grüße",
    "viele grüsse", "liebe grüße", "liebe grüsse", "beste grüße", "beste grüsse", "herzliche grüße", "grüße", "grüsse",
    "gruß", "gruss", "mfg", "lg", "vg", "danke", "vielen dank", "danke schön", "danke im voraus", "vielen dank im voraus",
    # es
    "saludos", "un saludo", "saludos cordiales", "muchos saludos", "atentamente", "gracias", "muchas gracias",
    "gracias de antemano", "un abrazo",
    # fr
    "cordialement", "bien cordialement", "bien à vous", "merci", "merci beaucoup", "merci d'avance", "salutations",
    "amicalement", "bonne journée",
)
_NAME = r"[A-ZÀ-Ý][\w.'-]*(?:\s+[A-ZÀ-Ý][\w.'-]*){0,3}"
_CLOSING = re.compile(rf"^(?:{'|'.join(sorted(map(re.escape, _CLOSINGS), key=len, reverse=True))})"
                      rf"\s*[,.!]*\s*(?:{_NAME})?\s*$", re.IGNORECASE)
_SIGNATURE_CLOSING = re.compile(rf"^(?:{'|'.join(sorted(map(re.escape, _CLOSINGS), key=len, reverse=True))})\b",
                                re.IGNORECASE)
_LONE_NAME = re.compile(rf"^(?:{_NAME}|(?:[A-Z]\.){{1,4}})$")
_SIGNATURE_MAX_LINES = 6  # a closing is a signature only with at most this many lines under it


def _quote_start(lines: list[str]) -> int:
    """The index of the first line of quoted history (len(lines) when there is none)."""
    for i, line in enumerate(lines):
        text = line.strip()
        if not text:
            continue
        two = f"{text} {lines[i + 1].strip()}" if i + 1 < len(lines) else text
        if _REPLY_HEADER.match(text) or _REPLY_HEADER.match(two) or _SEPARATOR.match(text):
            return i
        if _HEADER_FROM.match(text) and any(_HEADER_SENT.match(nxt.strip()) for nxt in lines[i + 1:i + 5]):
            return i
    return len(lines)


def _signature_start(lines: list[str]) -> int:
    for i, line in enumerate(lines):
        text = line.strip()
        if text == "--" or _MOBILE.match(text):
            return i
        rest = [x for x in lines[i + 1:] if x.strip()]
        if _CLOSING.match(text) and len(rest) <= _SIGNATURE_MAX_LINES and not any("?" in x for x in rest):
            # "Thanks," or "Best, Kim" followed by a name, a title, a phone number: not by more questions.
            return i
    return len(lines)


_FORWARD_SEPARATOR = re.compile(r"^-{2,}\s*(?:forwarded message|weitergeleitete nachricht|mensaje reenviado|"
                                r"message transféré)\s*-{2,}$", re.IGNORECASE)
_FORWARD_SUBJECT = re.compile(r"^(?:(?:re|aw)\s*:\s*)*(?:fwd?|wg|tr|rv|enc)\s*(?:\[\d+\])?\s*:", re.IGNORECASE)
_HEADER_LINE = re.compile(r"^(?:from|sent|date|to|cc|subject|von|gesendet|datum|an|betreff|de|enviado|fecha|para|"
                          r"asunto|envoyé|à|objet)\s*:", re.IGNORECASE)


def forwarded_clean(subject: str, body: str) -> str:
    """The text of the message a customer forwards ("Fwd: …", "---------- Forwarded message ---------"):
    their earlier email to us, or one they were sent, is what "see below" asks about. Its header block,
    its own quoted history and its signature are cut; "" when the email forwards nothing."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start = _quote_start(lines)
    if start >= len(lines):
        return ""
    if not (_FORWARD_SEPARATOR.match(lines[start].strip()) or _FORWARD_SUBJECT.match((subject or "").strip())):
        return ""  # a reply's quoted history: what we wrote before, not the customer's request
    rest = lines[start + 1:] if not _HEADER_FROM.match(lines[start].strip()) else lines[start:]
    while rest and (not rest[0].strip() or _HEADER_LINE.match(rest[0].strip())):
        rest = rest[1:]
    return email_clean("\n".join(rest))


def email_clean(body: str) -> str:
    """The customer's own new text: quoted history, quote lines and the signature removed."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = lines[:_quote_start(lines)]
    lines = [line for line in lines if not line.lstrip().startswith(">")]
    lines = lines[:_signature_start(lines)]
    while lines and not lines[-1].strip():
        lines.pop()
    kept = [line for line in lines if line.strip()]
    if len(kept) > 1 and _LONE_NAME.match(kept[-1].strip()) and re.search(r"[.?!]\s*$", kept[-2]):
        # A name alone under the last sentence ("…in stock?\nGrace") signs the email.
        lines = lines[:len(lines) - 1 - lines[::-1].index(kept[-1])]
    return "\n".join(line.rstrip() for line in lines).strip()
