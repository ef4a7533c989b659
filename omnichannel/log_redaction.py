"""Secrets and personal data kept out of log lines: the values of `token=`, `email=` and the like.

Zoho's webhook may authenticate with `?token=<the signing key>` (README: "HMAC or ?token="), and the
API looks a customer up by `?email=`. Such a URL reaches the logs in three places: gunicorn's access
log (the request line), Django's `django.request` records (the request rides along as `extra` and the
JSON formatter prints its repr, query string included) and any message that quotes a URL. One function
rewrites `name=value` to `name=[redacted]` for the names below; Django's handlers run it as a filter
(settings.LOGGING) and gunicorn's loggers through `RedactingGunicornLogger` (deploy/gunicorn.conf.py).

Nothing here imports Django: gunicorn's master loads this module before any Django setting exists.
"""

from __future__ import annotations

import logging
import re

try:  # present wherever gunicorn runs; the Django side does not need it
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover
    _GunicornLogger = object

# Query or form names whose values are credentials or personal data (compared case-insensitively).
SENSITIVE_NAMES = ("token", "access_token", "refresh_token", "id_token", "api_key", "apikey", "secret",
                   "client_secret", "password", "signature", "sig", "hmac", "email", "e-mail", "phone")
REDACTED = "[redacted]"
# `name=value` where name starts a query (after ?, &, ; or the start, a space or a quote) and the value
# runs to the next separator. Percent-encoded values (ada%40example.com) are covered, as are names in
# upper case. A name that merely ends in one of these (`my_token=`) is left alone, on purpose: the
# list is of exact names.
_PAIR = re.compile(r"(?i)(^|[?&;\s\"'(<,])(" + "|".join(re.escape(n) for n in SENSITIVE_NAMES) + r")(=)[^&;\s\"'#<>)]*")


def signature_header(name: str) -> bool:
    """A request header that carries a signature (X-Shopify-Hmac-Sha256, X-Hook-Signature): never kept
    or shown beside the body it signs, since the two together are a delivery anyone could send again."""
    lowered = name.lower()
    return "hmac" in lowered or "signature" in lowered


def redact(text: str) -> str:
    """The text with the value of every sensitive `name=value` pair replaced by [redacted]."""
    if "=" not in text:
        return text
    return _PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}={REDACTED}", text)


class _RedactedRequest:
    """Stands in for the request a `django.request` record carries: the same object to code that reads
    its attributes (an e-mail handler, an error tracker), a redacted text to a formatter that prints it."""

    def __init__(self, request):
        self._request = request

    def __getattr__(self, name):
        return getattr(self._request, name)

    def __repr__(self) -> str:
        return redact(repr(self._request))

    __str__ = __repr__


_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "correlation_id"}


class RedactingFilter(logging.Filter):
    """A logging filter for any handler: the message (with its arguments), string extras, the request
    extra and an exception's text are redacted. It never drops a record and never raises."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            self._redact(record)
        except Exception:  # noqa: BLE001 - a log line is never lost to the redaction itself
            record.msg, record.args = "[log message withheld: it could not be redacted]", ()
        return True

    @staticmethod
    def _redact(record: logging.LogRecord) -> None:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        for name, value in list(vars(record).items()):
            if name in _STANDARD:
                continue
            if isinstance(value, str):
                setattr(record, name, redact(value))
            elif name == "request" and value is not None and not isinstance(value, _RedactedRequest):
                record.request = _RedactedRequest(value)
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if redact(text) != text:
                # Formatters print exc_text when exc_info is gone (both the stdlib's and python-json-logger's).
                record.exc_text, record.exc_info = redact(text), None


_FILTER = RedactingFilter()


class RedactingGunicornLogger(_GunicornLogger):
    """gunicorn's logger with the same redaction on its access log (the request line, the referer) and
    its error log. `logger_class` in deploy/gunicorn.conf.py."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.addFilter(_FILTER)  # the same object each time: a config reload does not stack filters
