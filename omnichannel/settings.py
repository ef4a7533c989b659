"""Settings, read from the environment (12-factor). `.env.example` lists every variable.

With nothing set the project runs embedded: SQLite, local-memory cache, Celery tasks inline,
Chroma on disk, blobs on the filesystem, Zoho and Shopify fakes. DATABASE_URL=postgres://…
and REDIS_URL=redis://… switch to the production shape.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from omnichannel import settings_blocks
from omnichannel.client_ip import trusted_proxy_networks
from omnichannel.env import (
    env_bool,
    env_bucket_name,
    env_choice,
    env_database,
    env_datetime,
    env_domains,
    env_float,
    env_http_url,
    env_int,
    env_list,
    env_redis_url,
    env_str,
)
from omnichannel.settings_checks import (
    blob_store_check,
    settings_combinations_check,
    shopify_previous_secret_check,
    visibility_timeout_check,
)
from omnichannel.task_names import TaskName

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)
PRODUCTION = env_bool("DJANGO_PRODUCTION", False)
# Production secrets have no default; the embedded/dev mode gets an obviously fake one.
SECRET_KEY = env_str("DJANGO_SECRET_KEY", required=PRODUCTION) or "dev-insecure-secret-key-change-me"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "accounts.apps.StaffAdminConfig",  # django.contrib.admin with the two-factor admin site (accounts/two_factor.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_prometheus",
    "rest_framework",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "omnichannel",
    "accounts",
    "customers",
    "catalog",
    "conversations",
    "faq",
    "assistants",
    "integrations",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "omnichannel.correlation.CorrelationIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): a TOTP code was given in this session
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: turns a lockout into its 429 answer
]

# Content-Security-Policy on every page (django-csp; omnichannel/settings_blocks.py says why).
CONTENT_SECURITY_POLICY = settings_blocks.CONTENT_SECURITY_POLICY

ROOT_URLCONF = "omnichannel.urls"
WSGI_APPLICATION = "omnichannel.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "conversations.context_processors.undo_offer",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["ENGINE"] = "django.db.backends.sqlite3"
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DATABASES["default"].setdefault("TEST", {})
# django-prometheus's wrappers of the same backends: django_db_execute_total, query durations, errors.
DATABASES["default"]["ENGINE"] = {
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
}[DATABASES["default"]["ENGINE"]]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and broker; local memory and inline tasks when absent -----------------
REDIS_URL = env_redis_url("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's own Redis client, counting gets/hits/misses (omnichannel/cache_backends.py says why ours).
            "BACKEND": "omnichannel.cache_backends.MeteredRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "omni"),
            "TIMEOUT": 300,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "omnichannel.cache_backends.MeteredLocMemCache", "LOCATION": "omni"}}

# --- Celery ---------------------------------------------------------------------------
# SYNC_USE_CELERY=0 processes inline (also the default when there is no broker).
SYNC_USE_CELERY = env_bool("SYNC_USE_CELERY", bool(REDIS_URL))
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not SYNC_USE_CELERY
# An approved reply waits this long before it may be sent, so the agent can undo it. Inline
# processing (embedded mode, the tests) has no delayed tasks to send it later, so 0 there (and
# anything else is refused below: the send would run at once, find the window open, and never run again).
# An agent who opens a draft holds it this long (renewed on each visit): others are steered past it.
REVIEW_CLAIM_SECONDS = env_int("REVIEW_CLAIM_SECONDS", 300, minimum=10)
# A conversation waiting on the customer (we replied last) closes after this many days without a customer message.
AUTO_CLOSE_DAYS = env_int("AUTO_CLOSE_DAYS", 7, minimum=1)
SEND_UNDO_SECONDS = env_int("SEND_UNDO_SECONDS", 20 if SYNC_USE_CELERY else 0, minimum=0)
CELERY_TASK_EAGER_PROPAGATES = False
# One retry policy for every task that retries (omnichannel/task_policy.py): transient errors are retried after
# a random wait of up to TASK_RETRY_BACKOFF_SECONDS * 2**retry, capped at TASK_RETRY_BACKOFF_MAX_SECONDS (full
# jitter), TASK_MAX_RETRIES times, then the task fails into a DeadLetter row. Inline (SYNC_USE_CELERY=0) there is
# no later: a retry would run at once, without its wait, inside the request, so a task runs once there and the
# sweeps (ensure_sent, ensure_drafts, replay_stalled_deliveries) pick up what failed.
TASK_RETRY_BACKOFF_SECONDS = env_int("TASK_RETRY_BACKOFF_SECONDS", 10, minimum=1)
TASK_RETRY_BACKOFF_MAX_SECONDS = env_int("TASK_RETRY_BACKOFF_MAX_SECONDS", 600, minimum=1)
TASK_MAX_RETRIES = env_int("TASK_MAX_RETRIES", 6 if SYNC_USE_CELERY else 0, minimum=0)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360, minimum=1)
# Long jobs get their own limits by task name (annotations keep deploy numbers out of the task modules):
# the soft limit raises SoftTimeLimitExceeded a minute before the hard one kills the process.
LONG_TASK_TIME_LIMIT = env_int("CELERY_LONG_TASK_TIME_LIMIT", 1800, minimum=1)
# Every task of the `long` queue (omnichannel/celery.py), and only those (tests/omnichannel/test_queues.py).
LONG_TASKS = (TaskName.SHOPIFY_BACKFILL, TaskName.BACKUP_DB, TaskName.ZOHO_SYNC, TaskName.ARCHIVE_CONVERSATIONS,
              TaskName.MINE_DEMAND, TaskName.PROPOSE_FAQ, TaskName.CRAWL_SITE_DOCUMENTS)
CELERY_TASK_ANNOTATIONS = {
    name: {"soft_time_limit": max(1, LONG_TASK_TIME_LIMIT - 60), "time_limit": LONG_TASK_TIME_LIMIT}
    for name in LONG_TASKS
}
# Longer than the longest task's hard limit, so Redis never hands an unacknowledged task to a
# second worker while the first still runs it (acks_late: the ack comes when the task ends).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1)}
visibility_timeout_check(CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"], CELERY_TASK_TIME_LIMIT,
                         CELERY_TASK_ANNOTATIONS)
# Claimed work (a webhook delivery being processed, a reply being sent) holds a lease this long, renewed
# every third of it while its worker lives (omnichannel/leases.py). A worker killed with SIGKILL stops
# renewing: within this time plus a minute (the sweeps' schedule) its delivery is handed on, its send flagged.
WORK_LEASE_SECONDS = env_int("WORK_LEASE_SECONDS", 30, minimum=3)
# A worker's own Prometheus endpoint (docker-compose.yml); 0 = none (one host: the web's /metrics reads the files).
WORKER_METRICS_PORT = env_int("CELERY_WORKER_METRICS_PORT", 0, minimum=0)
WORKER_METRICS_ADDR = env_str("CELERY_WORKER_METRICS_ADDR", "127.0.0.1")
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Auth, i18n, static -----------------------------------------------------------------
# ModelBackend, with each user's permission set cached across requests (omnichannel/auth_backends.py).
# AxesStandaloneBackend first: it refuses a locked-out login before a password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "omnichannel.auth_backends.CachedPermissionsBackend"]
# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username from one
# address, that pair is refused (429) for the cool-off, each further try restarting it. Attempts live
# in the database (shared by every process; the admin's "Access attempts" unlocks early). The address
# is the client's (omnichannel/client_ip.py): REMOTE_ADDR, or, when that is one of TRUSTED_PROXIES (addresses
# or networks of our own reverse proxies), the right-most X-Forwarded-For hop that is not one of them. The
# header from anyone else is ignored: a guesser cannot pick a new address for each try.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
trusted_proxy_networks(TRUSTED_PROXIES)  # a typo fails start-up, naming the variable
AXES_CLIENT_IP_CALLABLE = "omnichannel.client_ip.client_ip"
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_VERBOSE = False  # no banner on every manage.py command
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # no table of every successful login (addresses, user agents) to keep and erase
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
# The support team's time zone: every time in the admin is shown in it, with its abbreviation.
TIME_ZONE = env_str("TIME_ZONE", "UTC")
FORMAT_MODULE_PATH = ["omnichannel.formats"]
USE_I18N = True
# The drafter's sentences in German, Spanish and French (assistants/providers/grounded*.py). The
# compiled .mo files are committed beside their .po, so no machine needs GNU gettext to run.
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage" if not DEBUG
                    else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGIN_URL = "/admin/login/"
# A login lasts a working day, and ends with the browser: a forgotten session on a shared machine expires.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE_HOURS", 12, minimum=1) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# API tokens (accounts.ApiToken) are stored as digests and expire; `manage.py drf_create_token USER` makes one.
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 90, minimum=1)
# Two-factor (TOTP, django-otp) for Ops and superusers: always in production, optional elsewhere.
OTP_REQUIRED = PRODUCTION or env_bool("OTP_REQUIRED", False)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Support assistant")

# --- Blob store (raw HTML snapshots, attachments, archives, CSVs, backups) -----------------
# One machine: the filesystem under BLOB_ROOT. Several web and worker machines: an S3-compatible bucket
# (AWS S3, MinIO, ...) through django-storages, chosen by setting BLOB_BUCKET (omnichannel/blobstore.py).
BLOB_ROOT = Path(env_str("BLOB_ROOT", str(VAR_DIR / "blobs")))
BLOB_BUCKET = env_bucket_name("BLOB_BUCKET")
BLOB_ENDPOINT_URL = env_http_url("BLOB_ENDPOINT_URL")  # empty = AWS S3 itself; http://minio:9000 for MinIO
BLOB_REGION = env_str("BLOB_REGION", "us-east-1")
BLOB_PREFIX = env_str("BLOB_PREFIX", "").strip("/")  # keys live under this prefix inside the bucket
# Our own names first, then the AWS ones boto3 knows; neither = boto3's chain (instance role, ~/.aws).
BLOB_ACCESS_KEY_ID = env_str("BLOB_ACCESS_KEY_ID", "") or env_str("AWS_ACCESS_KEY_ID", "")
BLOB_SECRET_ACCESS_KEY = env_str("BLOB_SECRET_ACCESS_KEY", "") or env_str("AWS_SECRET_ACCESS_KEY", "")
blob_store_check(bucket=BLOB_BUCKET, endpoint_url=BLOB_ENDPOINT_URL, access_key_id=BLOB_ACCESS_KEY_ID,
                 secret_access_key=BLOB_SECRET_ACCESS_KEY, own_access_key_id=env_str("BLOB_ACCESS_KEY_ID", ""),
                 prefix=BLOB_PREFIX)

# --- Chroma and embeddings ---------------------------------------------------------------
CHROMA_PATH = env_str("CHROMA_PATH", str(VAR_DIR / "chroma"))
CHROMA_HOST = env_str("CHROMA_HOST", "")
CHROMA_PORT = env_int("CHROMA_PORT", 8000, minimum=1)
# Embedded Chroma is files one process owns (it is not process-safe: another process's writes are not
# seen, or corrupt the index). With workers (SYNC_USE_CELERY=1) web and workers are separate processes,
# so CHROMA_HOST is required; this flag accepts an embedded store anyway, for tests and development only.
CHROMA_ALLOW_EMBEDDED_MULTIPROCESS = env_bool("CHROMA_ALLOW_EMBEDDED_MULTIPROCESS", False)
EMBEDDING_BACKEND = env_choice("EMBEDDING_BACKEND", "lexical", ("lexical", "minilm", "chroma-default"))
EMBEDDING_MODEL_PATH = env_str("EMBEDDING_MODEL_PATH", "")

# --- Zoho Mail ------------------------------------------------------------------------
ZOHO_MODE = env_choice("ZOHO_MODE", "fake", ("fake", "live"))
ZOHO_DC = env_choice("ZOHO_DC", "com", ("com", "eu", "in", "com.au", "jp", "com.cn", "sa", "zohocloud.ca"))
ZOHO_CLIENT_ID = env_str("ZOHO_CLIENT_ID", "")
ZOHO_CLIENT_SECRET = env_str("ZOHO_CLIENT_SECRET", "")
ZOHO_REFRESH_TOKEN = env_str("ZOHO_REFRESH_TOKEN", "")
ZOHO_ACCOUNT_ID = env_str("ZOHO_ACCOUNT_ID", "")
ZOHO_WEBHOOK_SECRET = env_str("ZOHO_WEBHOOK_SECRET", "dev-zoho-webhook-secret")
ZOHO_OWN_ADDRESSES = [a.lower() for a in env_list("ZOHO_OWN_ADDRESSES", ["support@demo-shop.example"])]
ZOHO_BASE_URL = env_str("ZOHO_BASE_URL", "")  # overrides https://mail.<dc> (the fake server's URL)
ZOHO_ACCOUNTS_URL = env_str("ZOHO_ACCOUNTS_URL", "")  # overrides https://accounts.zoho.<dc>
ZOHO_INBOX_FOLDER_ID = env_str("ZOHO_INBOX_FOLDER_ID", "inbox")
# Zoho's folderId of the Sent folder. A message from one of ZOHO_OWN_ADDRESSES is ours only when it is
# in this folder: anyone can write our address into a From header, and such an email arrives in the inbox
# (triaged as spam, never joining a customer's thread: integrations/zoho/ingest.py).
ZOHO_SENT_FOLDER = env_str("ZOHO_SENT_FOLDER", "sent")
ZOHO_TIMEOUT_SECONDS = env_float("ZOHO_TIMEOUT_SECONDS", 30.0)
ZOHO_MAX_ATTEMPTS = env_int("ZOHO_MAX_ATTEMPTS", 5, minimum=1)
ZOHO_BACKOFF_SECONDS = env_float("ZOHO_BACKOFF_SECONDS", 1.0)
ZOHO_MAX_RETRY_AFTER_SECONDS = env_float("ZOHO_MAX_RETRY_AFTER_SECONDS", 120.0)

# Who may join a conversation through In-Reply-To, References or Zoho's thread id: a sender who already
# takes part in it, or one on these domains (say, a partner's staff). Anyone else's email opens a new
# conversation marked with the one it claims to answer (conversations/services/threads.py).
THREAD_TRUSTED_DOMAINS = env_domains("THREAD_TRUSTED_DOMAINS")

# --- Shopify --------------------------------------------------------------------------
SHOPIFY_MODE = env_choice("SHOPIFY_MODE", "fake", ("fake", "live"))
SHOPIFY_SHOP_DOMAIN = env_str("SHOPIFY_SHOP_DOMAIN", "demo-shop.myshopify.com")
SHOPIFY_ACCESS_TOKEN = env_str("SHOPIFY_ACCESS_TOKEN", "")
SHOPIFY_API_VERSION = env_str("SHOPIFY_API_VERSION", "2025-01")
SHOPIFY_WEBHOOK_SECRET = env_str("SHOPIFY_WEBHOOK_SECRET", "dev-shopify-webhook-secret")
SHOPIFY_WEBHOOK_SECRET_PREVIOUS = env_str("SHOPIFY_WEBHOOK_SECRET_PREVIOUS", "")
# The previous secret signs nothing after this moment (ISO 8601 with an offset): a rotation has an end.
SHOPIFY_WEBHOOK_SECRET_PREVIOUS_UNTIL = env_datetime("SHOPIFY_WEBHOOK_SECRET_PREVIOUS_UNTIL")
shopify_previous_secret_check(SHOPIFY_WEBHOOK_SECRET_PREVIOUS, SHOPIFY_WEBHOOK_SECRET_PREVIOUS_UNTIL)
SHOPIFY_BASE_URL = env_str("SHOPIFY_BASE_URL", "")  # overrides https://<shop domain> (the fake server's URL)
SHOPIFY_TIMEOUT_SECONDS = env_float("SHOPIFY_TIMEOUT_SECONDS", 30.0)
SHOPIFY_MAX_ATTEMPTS = env_int("SHOPIFY_MAX_ATTEMPTS", 6, minimum=1)
SHOPIFY_BACKOFF_SECONDS = env_float("SHOPIFY_BACKOFF_SECONDS", 1.0)
SHOPIFY_MAX_RETRY_AFTER_SECONDS = env_float("SHOPIFY_MAX_RETRY_AFTER_SECONDS", 60.0)
SHOPIFY_PACE_SECONDS = env_float("SHOPIFY_PACE_SECONDS", 0.5)  # sleep per call near the top of the leaky bucket

# --- LLM ------------------------------------------------------------------------------
LLM_PROVIDER = env_choice("LLM_PROVIDER", "grounded", ("grounded", "openai"))
LLM_BASE_URL = env_str("LLM_BASE_URL", "")
LLM_API_KEY = env_str("LLM_API_KEY", "")
LLM_MODEL = env_str("LLM_MODEL", "gpt-4o-mini")
LLM_TIMEOUT_SECONDS = env_float("LLM_TIMEOUT_SECONDS", 30.0)
LLM_TEMPERATURE = env_float("LLM_TEMPERATURE", 0.2)
# USD per million tokens (input, output); a model not listed costs 0 and says so in the run.
LLM_PRICES_PER_MTOK = {
    "grounded-v1": (0.0, 0.0),
    "grounded-v2": (0.0, 0.0),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
}

# The drafter reads at most this many characters of an email (the rest is cut and the run says so).
ASSISTANT_MAX_INPUT_CHARS = env_int("ASSISTANT_MAX_INPUT_CHARS", 8000, minimum=200)
ASSISTANT_FAQ_MIN_SCORE = 0.18
ASSISTANT_SITE_MIN_SCORE = 0.25
# A site page asked with one request's own words, for a request the classifier already placed
# (collecting in the store, a warranty): the topic is known, so a weaker match is still the page.
ASSISTANT_SITE_REQUEST_MIN_SCORE = 0.15
ASSISTANT_REPLY_MIN_SCORE = 0.35
# Site documents (integrations/site/documents.py): a site on a private or loopback address is refused
# unless allowed (an internal network, the tests); a sitemap adds at most this many pages.
SITE_CRAWL_ALLOW_PRIVATE = env_bool("SITE_CRAWL_ALLOW_PRIVATE", False)
SITE_SITEMAP_MAX_PAGES = env_int("SITE_SITEMAP_MAX_PAGES", 200, minimum=1)
# A dismissed FAQ proposal comes back for review once this many more approved replies have joined it.
FAQ_RESURFACE_AFTER = env_int("FAQ_RESURFACE_AFTER", 5, minimum=1)
LLM_MAX_RETRIES = env_int("LLM_MAX_RETRIES", 3, minimum=1)

# --- Webhooks, retention, operations -------------------------------------------------------
WEBHOOK_MAX_BODY_BYTES = env_int("WEBHOOK_MAX_BODY_BYTES", 10 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = WEBHOOK_MAX_BODY_BYTES + 1024
RETENTION_MONTHS = env_int("RETENTION_MONTHS", 18, minimum=1)
METRICS_BASIC_AUTH = env_str("METRICS_BASIC_AUTH", "")  # "user:password"; empty = allow-list only
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])
PII_HASH_SALT = env_str("PII_HASH_SALT", "dev-pii-salt")  # keys tombstones: never change it; production refuses the default
BACKUP_KEEP = env_int("BACKUP_KEEP", 14, minimum=1)
# Archives (and data-request exports) are kept encrypted, then deleted: ARCHIVE_KEEP_DAYS after archiving,
# DATA_EXPORT_KEEP_DAYS after the export was written. ARCHIVE_ENCRYPTION_KEY holds Fernet keys, comma-separated
# for a rotation (the first encrypts, every one decrypts); without it, dev derives one from the SECRET_KEY.
ARCHIVE_KEEP_DAYS = env_int("ARCHIVE_KEEP_DAYS", 365, minimum=1)
DATA_EXPORT_KEEP_DAYS = env_int("DATA_EXPORT_KEEP_DAYS", 30, minimum=1)
ARCHIVE_ENCRYPTION_KEYS = env_list("ARCHIVE_ENCRYPTION_KEY", [])
# Blob files hold customer content (attachments, archives, exports): readable by our own user only.
# FileSystemStorage applies these to the files and folders it creates; object storage has its own ACLs.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
ALERT_PENDING_DRAFTS_MAX = env_int("ALERT_PENDING_DRAFTS_MAX", 100, minimum=1)
ALERT_CURSOR_STALE_MINUTES = env_int("ALERT_CURSOR_STALE_MINUTES", 15, minimum=1)
ALERT_FAILED_WEBHOOKS_WINDOW_HOURS = env_int("ALERT_FAILED_WEBHOOKS_WINDOW_HOURS", 24, minimum=1)

# --- REST framework ---------------------------------------------------------------------
REST_FRAMEWORK = settings_blocks.rest_framework_config(throttle_rate=env_str("API_THROTTLE_RATE", "6000/minute"))
SPECTACULAR_SETTINGS = settings_blocks.SPECTACULAR_SETTINGS

# --- Security (production) -----------------------------------------------------------------
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Logging: JSON lines with the correlation id ---------------------------------------------
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
LOG_FORMAT = env_choice("LOG_FORMAT", "json", ("json", "text"))
LOGGING = settings_blocks.logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)

# --- Combinations that cannot work: refused at start, naming the variables (omnichannel/settings_checks.py) ---
settings_combinations_check(globals())
