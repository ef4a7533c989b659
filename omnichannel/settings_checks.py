"""Settings that cannot work together, refused at start with an ImproperlyConfigured naming the
variables. omnichannel/settings.py calls each check where it has read the values it needs (so the
first error a bad environment meets is the same whatever else is wrong); `settings_combinations_check`
runs last, over the finished settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured


def visibility_timeout_check(visibility_timeout: int, task_time_limit: int, annotations: Mapping[str, dict]) -> None:
    """The broker's visibility timeout outlasts the longest task's hard limit (acks_late: the ack comes
    when the task ends), or Redis hands a task that still runs to a second worker."""
    longest_task, longest_limit = max([("every task", task_time_limit)] + [
        (name, options["time_limit"]) for name, options in annotations.items()], key=lambda item: item[1])
    if visibility_timeout <= longest_limit:
        raise ImproperlyConfigured(
            f"CELERY_VISIBILITY_TIMEOUT={visibility_timeout} must be longer than the "
            f"longest task time limit ({longest_limit} s, {longest_task}): Redis would hand a task that is still "
            "running to a second worker. Raise CELERY_VISIBILITY_TIMEOUT or lower CELERY_LONG_TASK_TIME_LIMIT / "
            "CELERY_TASK_TIME_LIMIT.")


def blob_store_check(*, bucket: str, endpoint_url: str, access_key_id: str, secret_access_key: str,
                     own_access_key_id: str, prefix: str) -> None:
    """Object-storage credentials come in pairs, and object-storage settings without a bucket are refused.
    `own_access_key_id` is BLOB_ACCESS_KEY_ID alone (AWS_ACCESS_KEY_ID may be set for other tools)."""
    if bool(access_key_id) != bool(secret_access_key):
        raise ImproperlyConfigured(
            "BLOB_ACCESS_KEY_ID and BLOB_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) go together: "
            "set both, or neither to use boto3's own credential chain.")
    if not bucket and (endpoint_url or own_access_key_id or prefix):
        # Each machine would keep its blobs on its own disk, and the others would not find them.
        raise ImproperlyConfigured("BLOB_ENDPOINT_URL, BLOB_ACCESS_KEY_ID or BLOB_PREFIX is set but BLOB_BUCKET is not: "
                                   "set BLOB_BUCKET to use object storage, or unset them for the filesystem store.")


def shopify_previous_secret_check(previous: str, until: Any) -> None:
    if previous and until is None:
        raise ImproperlyConfigured("SHOPIFY_WEBHOOK_SECRET_PREVIOUS needs SHOPIFY_WEBHOOK_SECRET_PREVIOUS_UNTIL (when the "
                                   "rotation ends, e.g. 2026-12-01T12:00:00Z): an old secret is never trusted for good.")


def settings_combinations_check(s: Mapping[str, Any]) -> None:
    """The finished settings (the settings module's globals()): workers without a broker or with an
    embedded Chroma, an undo window with nothing to send after it, live modes without credentials,
    malformed archive keys, and in production every public secret or fake."""
    if s["SYNC_USE_CELERY"] and s["CELERY_BROKER_URL"].startswith("memory://"):
        raise ImproperlyConfigured(
            "SYNC_USE_CELERY=1 needs a broker: set REDIS_URL (or CELERY_BROKER_URL); without one, queued tasks would be "
            "lost.")
    if s["SYNC_USE_CELERY"] and not s["CHROMA_HOST"] and not s["CHROMA_ALLOW_EMBEDDED_MULTIPROCESS"]:
        raise ImproperlyConfigured(
            f"SYNC_USE_CELERY=1 runs the web and Celery workers as separate processes, and embedded Chroma "
            f"(CHROMA_PATH={s['CHROMA_PATH']}) belongs to one process: set CHROMA_HOST to a Chroma server (e.g. `chroma "
            "run --path var/chroma-server --port 8001`, then CHROMA_HOST=localhost CHROMA_PORT=8001), or "
            "SYNC_USE_CELERY=0 for one process. CHROMA_ALLOW_EMBEDDED_MULTIPROCESS=1 accepts it anyway, for tests and "
            "development only.")
    if not s["SYNC_USE_CELERY"] and s["SEND_UNDO_SECONDS"]:
        raise ImproperlyConfigured(
            f"SEND_UNDO_SECONDS={s['SEND_UNDO_SECONDS']} needs workers (SYNC_USE_CELERY=1): with tasks inline nothing "
            "sends an approved reply once its undo window ends, so it would never be sent. Set SEND_UNDO_SECONDS=0 (no "
            "undo window), or run Celery workers and beat with SYNC_USE_CELERY=1.")
    for mode, needed in (
        (s["ZOHO_MODE"], ("ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN", "ZOHO_ACCOUNT_ID")),
        (s["SHOPIFY_MODE"], ("SHOPIFY_ACCESS_TOKEN",)),
    ):
        missing = [name for name in needed if mode == "live" and not s[name]]
        if missing:
            prefix = needed[0].split("_")[0]
            raise ImproperlyConfigured(f"{prefix}_MODE=live needs {', '.join(missing)} (see .env.example).")
    for key in s["ARCHIVE_ENCRYPTION_KEYS"]:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ImproperlyConfigured("ARCHIVE_ENCRYPTION_KEY: each key must be a Fernet key (32 url-safe base64 bytes: "
                                       "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())')"
                                       ) from None
    if s["PRODUCTION"]:
        _production_check(s)


def _production_check(s: Mapping[str, Any]) -> None:
    # Values that are public (in this repository: settings defaults, .env.example, docker-compose.yml)
    # sign nothing and salt nothing in production; neither do the fakes stand in for Zoho or Shopify.
    unsafe = [f"{name}={mode} (the local fake): set it to live with real credentials"
              for name, mode in (("ZOHO_MODE", s["ZOHO_MODE"]), ("SHOPIFY_MODE", s["SHOPIFY_MODE"])) if mode == "fake"]
    for name, value in (("ZOHO_WEBHOOK_SECRET", s["ZOHO_WEBHOOK_SECRET"]),
                        ("SHOPIFY_WEBHOOK_SECRET", s["SHOPIFY_WEBHOOK_SECRET"]),
                        ("SHOPIFY_WEBHOOK_SECRET_PREVIOUS", s["SHOPIFY_WEBHOOK_SECRET_PREVIOUS"]),
                        ("PII_HASH_SALT", s["PII_HASH_SALT"]), ("DJANGO_SECRET_KEY", s["SECRET_KEY"]),
                        ("METRICS_BASIC_AUTH", s["METRICS_BASIC_AUTH"])):
        if value.startswith("dev-") or "change-me" in value:
            unsafe.append(f"{name} must be set to the real secret (this one is public)")
    if not s["ZOHO_SENT_FOLDER"].isdigit():
        # Zoho's folder ids are numbers. With a name here nothing is ever in "our Sent folder": every reply an
        # agent sends from Zoho Mail itself would be taken for a forgery (integrations/zoho/ingest.py).
        unsafe.append(f"ZOHO_SENT_FOLDER={s['ZOHO_SENT_FOLDER']!r} must be the Sent folder's folderId (digits, from "
                      "Zoho's GET /api/accounts/<account id>/folders)")
    if unsafe:
        raise ImproperlyConfigured("DJANGO_PRODUCTION=1 refuses unsafe settings: " + "; ".join(unsafe)
                                   + ". See the README's Docker section for creating the secrets.")
    if not s["ARCHIVE_ENCRYPTION_KEYS"]:
        raise ImproperlyConfigured("ARCHIVE_ENCRYPTION_KEY must be set when DJANGO_PRODUCTION=1 (archives are encrypted).")
