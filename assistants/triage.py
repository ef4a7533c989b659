"""Triage: what an inbound email is, decided before anyone drafts a reply to it.

An out-of-office reply, a bounce, an SEO pitch and a GDPR erasure request are not questions a
customer asked: a drafted answer to them is at best noise in the agents' queue, at worst a reply
loop with an auto-responder (RFC 3834 §2) or an erasure request answered with an FAQ. Each email
gets one label (`conversations.models.Message.Triage`), decided by fixed rules, first match wins:

0. spam: a forged sender: one of our own addresses (ZOHO_OWN_ADDRESSES) on an inbound email. Our own
   mail is outbound (Zoho's Sent folder) and never triaged.
1. bounce: the mail system reports a failed delivery: a MAILER-DAEMON/postmaster sender, an RFC 3464
   delivery report (`Content-Type: multipart/report; report-type=delivery-status`),
   `X-Failed-Recipients` (Exim), or a bounce subject ("Undelivered Mail Returned to Sender").
2. auto_reply from headers: RFC 3834 `Auto-Submitted` other than `no`, `X-Autoreply` /
   `X-Autorespond`, an RFC 8098 read receipt, `Precedence: bulk|junk|list|auto_reply` (spam instead
   when the text is a marketing pitch).
3. auto_reply from the subject: it starts like an out-of-office notice ("Automatic reply:",
   "Abwesenheitsnotiz", "Respuesta automática", "Réponse automatique").
4. privacy_request: the sender asks to erase or to see their personal data (GDPR/DSGVO/RGPD).
   A request, in the first person: a mention of the GDPR alone is not one.
5. auto_reply from the body: two typical out-of-office sentences ("I am out of the office until",
   "with limited access to email"), or one that says it is automatic.
6. spam: a marketing pitch: at least two distinct signals (SEO, link building, guest posts, "book a
   call", an unsubscribe link) adding up to SPAM_THRESHOLD.
7. customer: everything else.

Body rules (5, 6) read only what the sender wrote (quoted replies cut off) and subtract what
only a customer says (an order number, "my order", "I bought"): a single word never decides,
so "I want my money back" stays a customer's email. Reasons say in plain words what matched, never
the sender's own text (they outlive an erasure of the message). Text is compared lower-case without
accents, so "Réponse automatique" and "Reponse automatique" are one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings

from assistants import triage_reasons as reasons
from assistants.context import email_text
from conversations.models import Message
from conversations.services.triage import message_triage_record

CUSTOMER = Message.Triage.CUSTOMER.value
AUTO_REPLY = Message.Triage.AUTO_REPLY.value
BOUNCE = Message.Triage.BOUNCE.value
SPAM = Message.Triage.SPAM.value
PRIVACY_REQUEST = Message.Triage.PRIVACY_REQUEST.value

AUTO_REPLY_THRESHOLD = 3.0
SPAM_THRESHOLD = 3.0
# Only the start of a long email is read: signatures, legal footers and quoted mail come later.
_MAX_CHARS = 20_000


@dataclass(frozen=True)
class TriageResult:
    label: str
    reason: str

    @property
    def drafted(self) -> bool:
        return self.label == CUSTOMER

    def as_json(self) -> dict:
        return {"label": self.label, "reason": self.reason}


CUSTOMER_RESULT = TriageResult(CUSTOMER, "no sign of an automatic reply, a bounce, marketing or a privacy request")


@dataclass(frozen=True)
class _Rule:
    name: str
    pattern: re.Pattern | None  # None: a signal found elsewhere (a header), counted like a phrase
    weight: float = 0.0


def _rules(*specs: tuple) -> list[_Rule]:
    return [_Rule(name, re.compile(pattern), *weight) for name, pattern, *weight in specs]


# --- 1. bounces -------------------------------------------------------------------------------
_BOUNCE_SENDER = re.compile(r"^(?:mailer-daemon|mail-daemon|maildaemon|postmaster)@")
_BOUNCE_SENDER_NAME = re.compile(r"^mail delivery (?:subsystem|system|service)")
_BOUNCE_SUBJECT = _rules(
    ("'Undelivered Mail Returned to Sender'", r"undelivered mail returned to sender"),
    ("'Delivery Status Notification (Failure)'", r"delivery status notification \((?:failure|delay)\)"),
    # With the colon the mail systems put there: "Undelivered parcel" is a customer's subject.
    ("that delivery failed", r"^(?:mail delivery failed|mail delivery failure|failure notice\b|returned mail:"
                                   r"|undeliverable:|undelivered:|unzustellbar:|nicht zustellbar:|non remis ?:"
                                   r"|no se puede entregar:|notificacion de estado de entrega \(error\))"),
)

# --- 3. out-of-office subjects (at the start: "Automatic reply: <your subject>") -----------------
_AUTO_REPLY_SUBJECT = _rules(
    ("'Automatic reply'", r"^\[?(?:automatic|auto)[ -]?(?:reply|response|answer)|^autoreply\b"
                                     r"|^auto:"),
    ("'Out of office'", r"^(?:out of (?:the )?office|ooo\b|oof\b|away from (?:the )?office"
                                   r"|(?:vacation|holiday|absence) (?:auto[- ]?)?(?:reply|response|notice))"),
    ("'Abwesenheitsnotiz'", r"^(?:abwesenheitsnotiz|abwesenheitsmeldung|automatische antwort)"),
    ("'Respuesta automática'", r"^(?:respuesta automatica|fuera de (?:la )?oficina|mensaje de ausencia)"),
    ("'Réponse automatique'", r"^(?:reponse automatique|absente? du bureau|absence du bureau"
                                        r"|message d'absence)"),
)

# --- 4. privacy requests ---------------------------------------------------------------------------
_ERASURE = _rules(
    ("'delete my data or account'", r"\b(?:delete|erase|remove|wipe|destroy)\b (?:all (?:of )?)?(?:my|our) "
                                    r"(?:personal |customer |user )?(?:data|information|info|details|account|profile"
                                    r"|records?)\b"),
    ("'delete the data you hold about me'", r"\b(?:delete|erase|remove)\b (?:all )?(?:the |any )?(?:personal )?"
                                            r"(?:data|information) (?:(?:you|that you) (?:hold|have|store|keep) )?"
                                            r"(?:about|on|of) me\b"),
    ("'erasure of my data'", r"\b(?:deletion|erasure|removal) of (?:all (?:of )?)?my (?:personal )?"
                             r"(?:data|information|account|details)\b"),
    ("'right to be forgotten'", r"\bright (?:to be forgotten|to erasure|to deletion|of erasure)\b"),
    # In one sentence: "mein Konto" with "löschen" ("bitte löschen Sie mein Konto", "mein Konto löschen").
    ("'Löschung meiner Daten'", r"\b(?:losch|entfern)\w* [^.?!]{0,80}\bmein(?:e[rsn]?)? (?:\w+ ){0,3}(?:daten"
                                r"|kundenkonto|konto|account)\b|\bmein(?:e[rsn]?)? (?:\w+ ){0,3}(?:daten|kundenkonto"
                                r"|konto|account)\b[^.?!]{0,80}\b(?:losch|entfern)"
                                r"|\brecht auf (?:loschung|vergessen ?werden)\b"),
    ("'derecho de supresión'", r"\bderecho (?:de supresion|al olvido)\b|\b(?:suprim|elimin|borr)\w* .{0,60}"
                               r"\bmis (?:\w+ ){0,2}datos\b|\b(?:eliminar|borrar|cerrar) mi cuenta\b"
                               r"|\b(?:supresion|eliminacion|borrado) de (?:todos )?(?:mis|los) (?:\w+ ){0,2}datos\b"
                               r"|\b(?:supresion|eliminacion|cierre) de mi cuenta\b"),
    # "effacer toutes les données me concernant … ainsi que mon compte client": the data named by whom it is about.
    ("'droit à l'effacement'", r"\bdroit (?:a l'effacement|a l'oubli)\b|\b(?:supprim|effac)\w* .{0,60}"
                               r"\bmes (?:\w+ ){0,2}donnees\b|\b(?:supprim|effac)\w* [^.?!]{0,80}\bmon compte\b"
                               r"|\b(?:suppression|effacement) (?:de |des )(?:toutes )?(?:mes )?(?:\w+ ){0,2}donnees\b"
                               r"|\bsuppression (?:de )?mon compte\b|\b(?:supprim|effac)\w* [^.?!]{0,60}\bdonnees "
                               r"(?:\w+ ){0,2}(?:me concernant|sur moi|que vous (?:detenez|avez|conservez))\b"),
    ("'my data, by whom it is about'", r"\b(?:losch|entfern)\w* [^.?!]{0,60}\bdaten (?:\w+ ){0,2}uber mich\b|\b(?:suprim"
                                       r"|elimin|borr)\w* [^.?!]{0,60}\bdatos (?:\w+ ){0,2}(?:sobre|que tienen de) mi\b"),
)
_ACCESS = _rules(
    ("'subject access request'", r"\b(?:subject|data) access request\b|\bdsar\b"),
    ("'a copy of my personal data'", r"\b(?:copy|export|access|download)\b.{0,40}\b(?:my|the) personal "
                                     r"(?:data|information)\b|\b(?:export|download) (?:all )?(?:of )?my data\b"),
    ("'what data you hold about me'", r"\bwhat (?:personal )?(?:data|information) (?:do )?you (?:hold|have|store|keep"
                                      r"|process) (?:about|on) me\b"),
    ("'Datenauskunft'", r"\bdatenauskunft\b|\bauskunft\b.{0,80}\b(?:daten|art\.? ?15|artikel 15)\b"
                        r"|\b(?:kopie|export) (?:\w+ ){0,3}meiner (?:\w+ ){0,2}daten\b"),
    ("'derecho de acceso'", r"\bderecho de (?:acceso|portabilidad)\b|\b(?:acceso a|copia de) (?:todos )?mis datos\b"),
    ("'droit d'accès'", r"\bdroit (?:d'acces|a la portabilite)\b|\b(?:acces a|copie de) (?:toutes )?mes donnees\b"),
)
# Only with a regulation named: "article 17" or "right of access" alone may be about anything.
_PRIVACY_LAW = re.compile(r"\b(?:gdpr|dsgvo|rgpd|ccpa|data protection|datenschutz\w*|proteccion de datos"
                          r"|protection des donnees)\b")
_PRIVACY_WITH_LAW = _rules(
    ("'Art. 17' (erasure)", r"\b(?:art(?:icle|ikel|\.)?|§) ?17\b"),
    ("'Art. 15' (access)", r"\b(?:art(?:icle|ikel|\.)?|§) ?(?:15|20)\b|\bright (?:of|to) access\b|\bdata portability\b"),
)

# --- 5. out-of-office bodies --------------------------------------------------------------------------
_AUTO_REPLY_BODY = _rules(
    ("'this is an automatic reply'", r"\b(?:this is an|this is a) automat(?:ic|ed) (?:reply|response|message)\b"
                                     r"|\bdies ist eine automatische (?:antwort|nachricht|e-mail)\b"
                                     r"|\b(?:este es un mensaje|esta es una respuesta) automatic[oa]\b"
                                     r"|\bceci est (?:une reponse|un message) automatique\b", 3.0),
    ("'I am out of the office'", r"\b(?:i am|i'm|i will be|i'll be) (?:currently |now )?(?:out of (?:the )?office"
                                 r"|away from (?:the|my) (?:office|desk)|on (?:annual |parental |maternity |sick )?leave"
                                 r"|on (?:vacation|holiday)s?)\b", 2.0),
    ("'ich bin nicht im Büro'", r"\bich bin\b.{0,60}\b(?:nicht im bu(?:e)?ro|(?:im|in) (?:urlaub|elternzeit)"
                                r"|ausser haus|abwesend)\b", 2.0),
    ("'estoy fuera de la oficina'", r"\b(?:estoy|estare|me encuentro) (?:actualmente )?(?:fuera de (?:la )?oficina"
                                    r"|de vacaciones|ausente)\b", 2.0),
    ("'je suis absent du bureau'", r"\bje (?:suis|serai) (?:actuellement )?(?:absente?|en conges|en vacances"
                                   r"|hors du bureau)\b", 2.0),
    ("'limited access to email'", r"\blimited access to (?:my )?e-?mails?\b|\bacceso limitado (?:a|al) (?:mi )?correo"
                                  r"|\bacces limite (?:a|aux) (?:mes )?(?:e-?mails|courriels|messagerie)", 1.5),
    ("'I will reply when I return'", r"\b(?:respond|reply|get back to you|answer)\b.{0,40}\b(?:upon|when|on|after) "
                                     r"(?:my|i) return|\bnach meiner ruckkehr\b|\bwieder im bu(?:e)?ro\b"
                                     r"|\b(?:a mi regreso|cuando (?:regrese|vuelva))\b|\bdes mon retour\b", 1.5),
    ("'back in the office on'", r"\b(?:i will be|i'll be|i am) back (?:in the office )?(?:on|by)\b"
                                r"|\bab dem\b.{0,30}\bwieder erreichbar\b|\bestare de vuelta\b|\bde retour le\b", 1.5),
    ("'for urgent matters please contact'", r"\b(?:for|in case of) (?:urgent|immediate) (?:matters|issues|enquiries"
                                            r"|inquiries|requests|questions|assistance)\b|\bif (?:it is|your (?:matter|"
                                            r"request) is) urgent\b|\bin dringenden fallen\b|\bpara (?:asuntos|temas|"
                                            r"casos) urgentes\b|\ben cas d'urgence\b", 1.5),
    ("'your message will not be forwarded'", r"\b(?:ihre|deine) (?:e-?mail|nachricht) wird nicht weitergeleitet\b"
                                             r"|\byour (?:e-?mail|message) (?:will not|won't) be forwarded\b", 1.5),
)

# --- 6. marketing pitches -------------------------------------------------------------------------------
_SPAM = _rules(
    ("'guest post'", r"\bguest[- ]post(?:s|ing)?\b", 2.0),
    ("'link building'", r"\blink[- ]?(?:building|insertion|exchange)\b", 2.0),
    ("'backlinks'", r"\bback[- ]?links?\b|\bdo-?follow\b", 1.5),
    ("'domain authority'", r"\bdomain (?:authority|rating)\b|\bhigh (?:da|dr)\b|\b(?:da|dr)(?:/pa)? ?\d{2}\+", 1.5),
    ("'rank your website'", r"\brank(?:ing)? (?:your|the) (?:website|site|store|shop|business)\b"
                            r"|\byour (?:website|site|store) (?:is not|isn't) ranking\b", 2.5),
    ("'first page of Google'", r"\b(?:first|1st|top) page (?:of|on|in) google\b|\bpage (?:1|one) of google\b"
                               r"|\b(?:rank|ranking|ranked) (?:higher |#1 |first )?(?:on|in) google\b", 2.0),
    ("'SEO'", r"\bseo\b|\bsearch engine optimi[sz]ation\b|\bsuchmaschinenoptimierung\b"
              r"|\bposicionamiento (?:web|seo|en (?:google|buscadores))\b|\breferencement (?:naturel|web|google)\b", 1.0),
    ("'besser bei Google ranken'", r"\bbei google\b.{0,40}\b(?:ranken|ranking|platzier\w*|gefunden)\b"
                                  r"|\b(?:ranken|platzier\w*) (?:sie )?bei google\b"
                                  r"|\ben google\b.{0,40}\b(?:posicion\w*|primer\w* (?:lugar|pagina))"
                                  r"|\bpremiere page (?:de|sur) google\b|\b(?:positionner|referencer)\b.{0,40}\bgoogle\b",
     2.0),
    ("'SEO services'", r"\bseo (?:services?|audit|report|package|expert|agency|team|specialist|strategy)\b", 1.5),
    ("'more traffic'", r"\b(?:increase|boost|grow|drive|double|triple) (?:your )?(?:organic |website |site )?"
                       r"(?:traffic|visitors|leads|sales|revenue|conversions?)\b|\borganic traffic\b", 1.5),
    ("'sponsored post'", r"\bsponsored (?:post|article|content|link)\b", 2.0),
    ("'our agency can help'", r"\b(?:digital marketing|seo|web design|web development|app development|marketing) "
                              r"(?:agency|company|services|firm)\b|\b(?:our|my) (?:agency|team) (?:can|will|would "
                              r"love to) help\b", 1.5),
    ("'I came across your website'", r"\b(?:i|we) (?:came across|found|noticed|visited|was checking|were checking|"
                                     r"checked|reviewed|analy[sz]ed) your (?:website|site|store|shop|online store)\b", 1.5),
    ("'book a call'", r"\b(?:book|schedule|hop on|jump on) a (?:quick |free |short |\d{2}[- ]?min(?:ute)? )?"
                      r"(?:call|demo|meeting|chat)\b|\b\d{2}[- ]?min(?:ute)? (?:call|chat|demo)\b", 1.0),
    ("'free audit'", r"\bfree (?:audit|report|website analysis|seo analysis|consultation|quote)\b"
                     r"|\bunverbindliche[sn]? (?:angebot|erstgesprach|beratung|analyse)\b"
                     r"|\b(?:presupuesto|auditoria) (?:gratis|gratuit[oa]|sin compromiso)\b"
                     r"|\b(?:devis|audit) gratuit\b", 1.0),
    ("'special offer'", r"\b(?:special|exclusive|limited[- ]time) (?:offer|discount|deal|price)\b"
                        r"|\bmoney[- ]back guarantee\b", 1.0),
    ("an unsubscribe link", r"\bunsubscribe\b|\bopt[- ]out\b|\bdarse de baja\b|\bse desinscrire\b"
                              r"|\bdesinscription\b|\babmelden\b|\babbestellen\b", 1.0),
    ("'reply STOP'", r"\breply (?:with )?['\"]?(?:stop|no|remove|unsubscribe)\b|\bif (?:you are|you're) not "
                     r"interested\b|\bnot interested\?? just (?:reply|let me know)\b", 1.5),
)
# What customers say and marketers do not: each subtracts from the body scores (auto-reply, spam).
_CUSTOMER = _rules(
    ("an order number", r"#\s?\d{3,}\b", 2.0),
    ("'my order'", r"\b(?:my|mi|mein|meine|ma|mon) (?:order|orders|bestellung|pedido|commande|package|parcel|paket|colis"
                   r"|paquete|delivery|lieferung)\b", 2.0),
    ("'I bought'", r"\bi (?:ordered|bought|purchased|paid for|received)\b|\bich habe\b.{0,30}\b(?:bestellt|gekauft)\b"
                   r"|\bj'ai (?:commande|achete)\b|\b(?:he|hice un) (?:pedido|comprado)\b", 2.0),
)
# ...and what a customer asks of the shop, which an out-of-office notice does not (a pitch does: spam
# is not scored down by it).
_CUSTOMER_ASKS = _rules(
    ("a question to the shop", r"\b(?:can|could|would|will|do|does|did|is|are) (?:you|it|they|the \w+)\b[^.!?]{0,100}\?",
     2.0),
    ("'please send'", r"\bplease (?:deliver|send|ship|hold|keep|cancel|change|refund|replace|exchange)\b", 1.5),
)
_REPLY_HEADER = re.compile(r"^\s*(?:on .{0,200}wrote:|am .{0,200}schrieb.{0,100}:|el .{0,200}escribio:"
                           r"|le .{0,200}a ecrit ?:|-{2,} ?(?:original message|ursprungliche nachricht|mensaje original"
                           r"|message d'origine) ?-{2,}|from: .*@.*)\s*$")


def _plain(text: str) -> str:
    """Lower case, no accents (é→e, ü→u, ß→ss), straight apostrophes."""
    text = text.lower().replace("ß", "ss").replace("’", "'").replace("`", "'")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _own_words(body: str) -> str:
    """What the sender wrote: the lines before a quoted earlier message, without '>' lines, on one line."""
    kept = []
    for line in _plain(body[:_MAX_CHARS]).splitlines():
        if _REPLY_HEADER.match(line):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line)
    return " ".join(" ".join(kept).split())


def _matches(text: str, rules: list[_Rule]) -> list[_Rule]:
    return [rule for rule in rules if rule.pattern.search(text)]


def _score(text: str, rules: list[_Rule], *extra: _Rule, customer: list[_Rule] = _CUSTOMER) -> tuple[float, list[_Rule]]:
    """Weights of the rules found (and of `extra` signals), less what only a customer says."""
    found = _matches(text, rules) + list(extra)
    return sum(r.weight for r in found) - sum(r.weight for r in _matches(text, customer)), found


def _decides(score: float, found: list[_Rule], threshold: float) -> bool:
    # Never one signal alone, unless it is a sentence only a machine writes ("This is an automatic reply").
    return score >= threshold and (len(found) >= 2 or any(r.weight >= threshold for r in found))


def _names(found: list[_Rule]) -> str:
    return ", ".join(r.name for r in found)


def _token(value: str) -> str:
    """A header value as a short lower-case token (never free text a sender chose)."""
    match = re.match(r"[\w.-]{1,40}", value.strip().lower())
    return match.group(0) if match else "?"


def _header_result(headers: dict[str, str], spam_text: str) -> TriageResult | None:
    content_type = " ".join(headers.get("content-type", "").lower().split())
    if content_type.startswith("multipart/report"):
        if re.search(r'report-type\s*=\s*"?delivery-status', content_type):
            return TriageResult(BOUNCE, reasons.RETURNED_REPORT)
        if re.search(r'report-type\s*=\s*"?disposition-notification', content_type):
            return TriageResult(AUTO_REPLY, "Read receipt: an automatic notice that our email was opened")
    if headers.get("x-failed-recipients", "").strip():
        return TriageResult(BOUNCE, "Returned mail: the mail system could not deliver our email")
    auto_submitted = headers.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return TriageResult(AUTO_REPLY, reasons.AUTO_SUBMITTED.get(_token(auto_submitted), reasons.AUTOMATIC_MESSAGE))
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder"):
        value = headers.get(name)
        if value is not None and value.strip().lower() not in ("no", "false", "0"):
            return TriageResult(AUTO_REPLY, reasons.OUT_OF_OFFICE)
    precedence = _token(headers.get("precedence", "") or "-")
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        bulk = _Rule("sent as bulk mail", None, 1.0)
        score, found = _score(spam_text, _SPAM, bulk)
        if _decides(score, found, SPAM_THRESHOLD):
            return TriageResult(SPAM, f"Marketing pitch: {_names(found)}")
        return TriageResult(AUTO_REPLY, reasons.OUT_OF_OFFICE if precedence == "auto_reply" else reasons.BULK_MAIL)
    return None


def _privacy_result(text: str) -> TriageResult | None:
    erasure, access = _matches(text, _ERASURE), _matches(text, _ACCESS)
    law = bool(_PRIVACY_LAW.search(text))
    if law:
        with_law = _matches(text, _PRIVACY_WITH_LAW)
        erasure += [r for r in with_law if "17" in r.name]
        access += [r for r in with_law if "17" not in r.name]
    if not erasure and not access:
        return None
    kind = reasons.ERASURE_REQUEST if erasure else reasons.ACCESS_REQUEST
    return TriageResult(PRIVACY_REQUEST, f"{kind}: {_names(erasure + access)}" + ("; names a data protection law"
                                                                                  if law else ""))


def triage_classify(*, from_address: str, subject: str, body: str, headers: dict | None = None,
                    from_name: str = "") -> TriageResult:
    """The label of one inbound email and the rules that decided it. Pure: reads and writes nothing."""
    headers = {str(k).strip().lower(): str(v) for k, v in (headers or {}).items()}
    sender, subject_text, text = from_address.strip().lower(), " ".join(_plain(subject).split()), _own_words(body)
    if sender in settings.ZOHO_OWN_ADDRESSES:
        # Ours are outbound (the Sent folder) and never triaged: an inbound email from our own address
        # forged its From header (a phishing lure, or a try at someone's thread).
        return TriageResult(SPAM, "Forged sender: our own address, on an email that did not leave our mailbox")
    if _BOUNCE_SENDER.match(sender):
        return TriageResult(BOUNCE, reasons.RETURNED_REPORT)
    if _BOUNCE_SENDER_NAME.match(_plain(from_name)):
        return TriageResult(BOUNCE, reasons.RETURNED_REPORT)
    found = _matches(subject_text, _BOUNCE_SUBJECT)
    if found:
        return TriageResult(BOUNCE, f"Returned mail: the subject says {_names(found)}")
    decided = _header_result(headers, f"{subject_text} {text}")
    if decided:
        return decided
    found = _matches(subject_text, _AUTO_REPLY_SUBJECT)
    # "Out of office next week: can you hold my order #1001?" is a customer's subject.
    if found and not _matches(text, _CUSTOMER + _CUSTOMER_ASKS):
        return TriageResult(AUTO_REPLY, f"{reasons.OUT_OF_OFFICE}: the subject starts with {_names(found)}")
    decided = _privacy_result(f"{subject_text} {text}")
    if decided:
        return decided
    score, found = _score(text, _AUTO_REPLY_BODY, customer=_CUSTOMER + _CUSTOMER_ASKS)
    if _decides(score, found, AUTO_REPLY_THRESHOLD):
        return TriageResult(AUTO_REPLY, f"{reasons.OUT_OF_OFFICE}: the text says {_names(found)}")
    extra = [_Rule("a mailing-list unsubscribe link", None, 1.0)] if headers.get("list-unsubscribe") else []
    score, found = _score(f"{subject_text} {text}", _SPAM, *extra)
    if _decides(score, found, SPAM_THRESHOLD):
        return TriageResult(SPAM, f"Marketing pitch: {_names(found)}")
    return CUSTOMER_RESULT


@dataclass
class TriagedOutcome:
    """What drafting gives for an email triage set apart: no draft, no model run, an empty body."""

    triage: TriageResult
    draft: None = None
    model_run: None = None

    def as_json(self) -> dict:
        # The keys of DraftOutcome.as_json, so a caller (draft_reply --json) reads both alike.
        return {"triage": self.triage.as_json(), "intent": None, "intent_confidence": None, "confidence": None,
                "body": "", "model": None, "sources": [], "unsupported_facts": [], "missing": [],
                "provider_error": "", "retrieval_error": "", "draft_id": None, "model_run_id": None,
                "language": None, "requests": [],
                "reasons": {"summary": f"triaged as {self.triage.label}: no draft", "answered": [], "needs_person": [],
                            "sources": [], "caps": [], "classifier": None, "language": None}}


def email_triage(*, from_address: str, subject: str, body: str, headers: dict | None = None) -> TriagedOutcome | None:
    """For a dry run (draft_reply --dry-run, the goldens): the outcome when the email gets no draft, else None."""
    result = triage_classify(from_address=from_address, subject=subject, body=body, headers=headers)
    return None if result.drafted else TriagedOutcome(result)


def message_triage(*, message: Message) -> TriagedOutcome | None:
    """Triage one inbound message once and record it on the message (with a `message.triaged` audit row).
    A message triaged before keeps its label (an agent may have overruled it). None: draft it."""
    if not message.triage_label:
        result = triage_classify(from_address=message.from_address, from_name=message.from_name,
                                 subject=message.subject, body=email_text(body=message.body, body_html=message.body_html),
                                 headers=message.headers)
        message = message_triage_record(message_id=message.pk, label=result.label, reason=result.reason)
    result = TriageResult(message.triage_label, message.triage_reason)
    return None if result.drafted else TriagedOutcome(result)
