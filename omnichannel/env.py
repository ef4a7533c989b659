"""Reading settings from the environment, refusing bad values with a clear message.

django-environ does the parsing; these wrappers turn its (or Python's) errors into an
ImproperlyConfigured that names the variable and what is expected, so a typo in `.env`
stops the start with one readable line instead of a traceback from deep inside a library.
"""

from __future__ import annotations

import os
import re
import sys
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    """The value of NAME, or of the file NAME_FILE points at (Docker/K8s secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str:
    value = _raw(name)
    if value is None:
        if required:
            raise ImproperlyConfigured(f"{name} must be set (see .env.example).")
        return default if default is not None else ""
    return value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use 1/0, true/false, yes/no or on/off.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
    return number


def env_float(name: str, default: float) -> float:
    value = _raw(name)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_domains(name: str) -> list[str]:
    """A comma-separated list of mail domains ("example.com, @shop.example"), lowercased, without the '@'."""
    domains = [item.lower().removeprefix("@") for item in env_list(name, [])]
    for domain in domains:
        labels = domain.split(".")
        if len(labels) < 2 or not all(label and label.replace("-", "").isalnum() and label.isascii() for label in labels):
            raise ImproperlyConfigured(f"{name}: {domain!r} is not a domain name (expected e.g. example.com).")
    return domains


def env_datetime(name: str) -> datetime | None:
    """An ISO 8601 date and time with its offset ("2026-12-01T12:00:00Z", "…+01:00"), or None when unset.
    A time without an offset is refused: on which clock it ends would be a guess."""
    value = _raw(name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an ISO 8601 date and time "
                                   "(expected e.g. 2026-12-01T12:00:00Z).") from None
    if moment.tzinfo is None:
        raise ImproperlyConfigured(f"{name}={value!r} has no time zone: add Z or an offset such as +01:00.")
    return moment


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _raw(name)
    if value is None:
        return default
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of: {', '.join(choices)}.")
    return value


def env_database(name: str, default: str) -> dict:
    value = _raw(name) or default
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a database URL: expected postgres://USER@HOST:PORT/NAME or sqlite:///PATH."
        )
    try:
        config = environ.Env.db_url_config(value)
    except Exception as exc:  # noqa: BLE001 - django-environ raises a variety of errors on junk
        raise ImproperlyConfigured(f"{name}={value!r} cannot be parsed: {exc}") from None
    if config["ENGINE"].endswith("postgresql"):
        config["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
        config["CONN_HEALTH_CHECKS"] = True
        config.setdefault("OPTIONS", {})["connect_timeout"] = env_int("DATABASE_CONNECT_TIMEOUT", 3, minimum=1)
    return config


def env_bucket_name(name: str) -> str:
    """An S3 bucket name (3-63 lowercase letters, digits, dots, hyphens; a letter or digit at each end), or ""."""
    value = _raw(name)
    if value is None:
        return ""
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", value) or ".." in value:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not an S3 bucket name: 3-63 lowercase letters, digits, dots or hyphens.")
    return value


def env_http_url(name: str) -> str:
    """An http(s)://host[:port] URL, or ""."""
    value = _raw(name)
    if value is None:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ImproperlyConfigured(f"{name}={value!r} is not an http(s):// URL (expected e.g. http://minio:9000).")
    return value.rstrip("/")


def env_redis_url(name: str) -> str:
    value = _raw(name)
    if value is None:
        return ""
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"{name}={value!r} is not a Redis URL: expected redis://HOST:PORT/DB.")
    return value


def settings_load_or_exit(exit_code: int = 2) -> None:
    """Load the settings now, and stop with one line naming the variable if the environment is bad.

    manage.py does this for commands; gunicorn and Celery would otherwise print a traceback from
    deep inside their start-up (and gunicorn would retry booting workers)."""
    try:
        settings.INSTALLED_APPS  # noqa: B018 - touching a setting imports the settings module
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"Configuration error: {exc}\n")
        sys.stderr.flush()
        os._exit(exit_code)  # not sys.exit: gunicorn and Celery catch SystemExit and print their own traceback
