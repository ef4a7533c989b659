"""The settings that are fixed shapes rather than values read from the environment: the
Content-Security-Policy, the REST framework and its OpenAPI schema, logging. omnichannel/settings.py
(the Django settings module) takes them from here, passing the few values the environment chooses."""

from __future__ import annotations

from typing import Any

from csp import constants as csp_constants

# Content-Security-Policy on every page (django-csp): customer content shown in the admin (a
# subject, an email, a crawled page) can never run script; the review page's own script carries
# the per-request nonce. Attachments send a stricter policy of their own (sandbox).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp_constants.SELF],
        "script-src": [csp_constants.SELF, csp_constants.NONCE],
        "style-src": [csp_constants.SELF, csp_constants.UNSAFE_INLINE],
        "img-src": [csp_constants.SELF, "data:"],
        "object-src": [csp_constants.NONE],
        "base-uri": [csp_constants.NONE],
        "form-action": [csp_constants.SELF],
        "frame-ancestors": [csp_constants.NONE],
    },
}


def rest_framework_config(*, throttle_rate: str) -> dict[str, Any]:
    return {
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "accounts.authentication.HashedTokenAuthentication",  # `Authorization: Token …`, hashed and expiring
            "accounts.authentication.VerifiedSessionAuthentication",
        ],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
        # DRF's parsers, with JSON nested too deep answered 400 instead of a RecursionError's 500.
        "DEFAULT_PARSER_CLASSES": ["omnichannel.api_common.BoundedJSONParser", "rest_framework.parsers.FormParser",
                                   "rest_framework.parsers.MultiPartParser"],
        "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
        "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
        "EXCEPTION_HANDLER": "omnichannel.api_errors.exception_handler",
        "DEFAULT_THROTTLE_CLASSES": ["omnichannel.api_common.TokenRateThrottle"],
        "DEFAULT_THROTTLE_RATES": {"token": throttle_rate},
        "DEFAULT_PAGINATION_CLASS": "omnichannel.api_common.IdCursorPagination",
        "PAGE_SIZE": 50,
    }


SPECTACULAR_SETTINGS = {
    "TITLE": "Omnichannel support assistant API",
    "DESCRIPTION": "Conversations, drafts and approvals, customers, orders, inventory, FAQ and corrections.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],  # the schema maps the API: not public
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name for a choice set several serializers use (messages' triage_label, model_quality_triage's label).
    "ENUM_NAME_OVERRIDES": {"TriageLabelEnum": "conversations.models.Message.Triage",
                            "FaqProposalStatusEnum": "faq.models.FaqProposal.Status"},
}


def logging_config(*, level: str, fmt: str) -> dict[str, Any]:
    """JSON lines (or text) with the correlation id."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "correlation": {"()": "omnichannel.correlation.CorrelationIdLogFilter"},
            # ?token= (Zoho's signing key) and ?email= never reach a log line (omnichannel/log_redaction.py).
            "redact": {"()": "omnichannel.log_redaction.RedactingFilter"},
        },
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
            },
            "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": fmt, "filters": ["correlation", "redact"]},
        },
        "root": {"handlers": ["console"], "level": level},
        # axes logs every successful login at INFO ("Deleted 0 failed login attempts"): lockouts are WARNING.
        "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
    }
