"""Settings shared by every environment; every value comes from the environment.

See docs/operations.md for the full list of variables.
"""

from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("GOVSERVE_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env_str("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", default=False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [PUBLIC_BASE_URL])

INSTALLED_APPS = [
    # govserve's apps come first so their management commands (``check``)
    # and templates take precedence over Django's.
    "govserve.core",
    "govserve.audit",
    "govserve.accounts",
    "govserve.catalogue",
    "govserve.journeys",
    "govserve.documents",
    "govserve.casework",
    "govserve.casework.results",
    "govserve.payments",
    "govserve.privacy",
    "govserve.notifications",
    "govserve.api",
    "govserve.web",
    # The Django admin, served by accounts' MFA-guarded, audited StaffAdminSite.
    "govserve.accounts.admin_apps.GovserveAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks_db",
    # django-ninja: its Swagger UI template and assets (served locally, no CDN) for /api/v1/docs.
    "ninja",
]

MIDDLEWARE = [
    "govserve.core.middleware.RequestIdMiddleware",
    "govserve.web.access_log.AccessLogMiddleware",
    "govserve.web.null_characters.NullCharacterMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "govserve.web.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "govserve.accounts.middleware.SessionTimeoutMiddleware",
    "govserve.accounts.refusals.StaffRefusalAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "govserve.web.ratelimit.RateLimitMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "govserve.web.jinja.environment",
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.messages.context_processors.messages",
                # After the backend's own csrf_input/csrf_token: the secret masked once per request.
                "govserve.web.context_processors.csrf_once",
            ],
        },
    },
    {
        # The Django admin keeps its own templates.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# SQLite (embedded, the default) runs in WAL mode with IMMEDIATE transactions
# and a busy timeout, so several processes can write without "database is
# locked"; synchronous=FULL keeps every acknowledged commit durable (a draft's page save
# alone commits at NORMAL, made durable by the next FULL commit: decision 0010), and
# secure_delete overwrites deleted content so freed pages keep no personal data.
# The PRAGMAs are per connection: Django runs init_command on every connection it opens.
#
# Connections are kept between requests (DATABASE_CONN_MAX_AGE seconds, then reopened) on
# both databases: gunicorn's sync workers serve one request at a time on one thread, and
# opening a SQLite connection costs its connect, the PRAGMAs and Django's function
# registration on every request (2 ms of CPU; benchmarks/README.md). Threaded servers close
# their connections after each request themselves (Django's runserver and test live server);
# the ASGI entry point (config/asgi.py) sets 0, because each ASGI request runs its database
# work in a thread of its own and a kept connection would be left behind by every request.
# The health check before a kept connection is reused costs nothing on SQLite; on PostgreSQL
# it saves the first request of each worker after a database restart or failover from
# failing: a quiet connection (open, idle, nothing to read on its socket) is taken as checked
# (govserve/web/database_health.py), any other gets Django's `SELECT 1`.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'govserve.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", default=True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=FULL;PRAGMA secure_delete=ON;PRAGMA busy_timeout=30000;"
        ),
    }
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env_str("GOVSERVE_TEST_SQLITE", "") or None
# PostgreSQL: parameters are bound by the server and a statement a connection has run
# DATABASE_PREPARE_THRESHOLD times (default 5) is prepared there, so the server stops parsing
# and planning it again and psycopg stops quoting every value into the SQL text (a page
# request cost ~15% less of govserve's CPU and PostgreSQL's own fell by a quarter;
# benchmarks/README.md, decision 0011). Behind a pooler in transaction mode that does not
# track prepared statements (PgBouncer before 1.21, or without max_prepared_statements),
# set DATABASE_SERVER_SIDE_BINDING=false (docs/operations.md).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DATABASE_SERVER_SIDE_BINDING", default=True
):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": env_int("DATABASE_PREPARE_THRESHOLD", 5)}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Background work (django.tasks + django-tasks-db) -----------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Retries, dead letter and leases of govserve.core.jobs (see docs/operations.md).
GOVSERVE_JOBS_MAX_ATTEMPTS = env_int("GOVSERVE_JOBS_MAX_ATTEMPTS", 8)
GOVSERVE_JOBS_BACKOFF_BASE_SECONDS = env_int("GOVSERVE_JOBS_BACKOFF_BASE_SECONDS", 10)
GOVSERVE_JOBS_BACKOFF_CAP_SECONDS = env_int("GOVSERVE_JOBS_BACKOFF_CAP_SECONDS", 3600)
GOVSERVE_JOBS_LEASE_SECONDS = env_int("GOVSERVE_JOBS_LEASE_SECONDS", 900)
GOVSERVE_JOBS_RETENTION_DAYS = env_int("GOVSERVE_JOBS_RETENTION_DAYS", 30)
# Days an officer's prepared subject access export is kept before it is crypto-shredded (docs/privacy.md).
GOVSERVE_SUBJECT_ACCESS_KEEP_DAYS = env_int("GOVSERVE_SUBJECT_ACCESS_KEEP_DAYS", 7)

# --- Email ------------------------------------------------------------------------
# Platform email (govserve.notifications) reads EMAIL_URL when it sends and
# `govserve check` validates it (docs/notifications.md). Nothing in govserve uses
# Django's own mailer, so no EMAIL_* settings are derived (Django 6.1 deprecates
# them in favour of MAILERS; dj-email-url also lacks smtp+tls:// and smtps://).
EMAIL_URL = env_str("EMAIL_URL", "log://")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "govserve <noreply@govserve.localhost>")
# Text messages (log:// or notify://) and GOV.UK Notify (docs/notifications.md, "Providers").
SMS_URL = env_str("SMS_URL", "log://")
NOTIFY_API_KEY = env_str("NOTIFY_API_KEY", "")
NOTIFY_BASE_URL = env_str("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk")
NOTIFY_EMAIL_TEMPLATE_ID = env_str("NOTIFY_EMAIL_TEMPLATE_ID", "")
NOTIFY_SMS_TEMPLATE_ID = env_str("NOTIFY_SMS_TEMPLATE_ID", "")
NOTIFY_CALLBACK_TOKEN = env_str("NOTIFY_CALLBACK_TOKEN", "")
NOTIFICATION_CONTENT_RETENTION_DAYS = env_int("NOTIFICATION_CONTENT_RETENTION_DAYS", 7)
NOTIFICATION_DRAFT_EXPIRING_DAYS = env_int("NOTIFICATION_DRAFT_EXPIRING_DAYS", 3)

# --- Payments ---------------------------------------------------------------------
# Which provider takes payments: sandbox:// (built in, test cards only) or govukpay://
# (GOV.UK Pay); read when a payment starts, checked by `govserve check` (docs/payments.md).
PAYMENT_URL = env_str("PAYMENT_URL", "sandbox://")
# GOV.UK Pay (PAYMENT_URL=govukpay://): the service's API key, the API's address, the secret
# webhooks are signed with, and how long one call may take.
PAY_API_KEY = env_str("PAY_API_KEY", "")
PAY_BASE_URL = env_str("PAY_BASE_URL", "https://publicapi.payments.service.gov.uk")
PAY_WEBHOOK_SECRET = env_str("PAY_WEBHOOK_SECRET", "")
PAY_TIMEOUT_SECONDS = env_int("PAY_TIMEOUT_SECONDS", 10)

# --- Authentication ----------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Django permissions come from platform roles (authenticates nobody).
    "govserve.accounts.backends.RolePermissionBackend",
]
PASSWORD_HASHERS = [
    "govserve.accounts.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # ASVS 6.2.11: not the product's, the organisation's or an institution's name, nor a live service's title or id.
    {
        "NAME": "govserve.accounts.passwords.ContextWordsValidator",
        "OPTIONS": {"sources": ["govserve.catalogue.context_words.live_service_terms"]},
    },
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 1  # hours
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "govserve.accounts.views.staff_locked_out"
# Staff MFA (TOTP) is mandatory unless explicitly switched off (a system check warns).
GOVSERVE_STAFF_MFA_REQUIRED = env_bool("GOVSERVE_STAFF_MFA_REQUIRED", default=True)
OTP_TOTP_ISSUER = "govserve"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
LOGIN_URL = "/staff/sign-in"

# Sessions: idle timeout (seconds) and an absolute limit, enforced by
# govserve.accounts.middleware.SessionTimeoutMiddleware. A session is saved only
# when it changes: the middleware stores its last-seen time when that is more than
# a minute old, so most requests write nothing (docs/security.md, "Sessions").
SESSION_ENGINE = "govserve.web.sessions"  # Django's database sessions, loaded with one plain SELECT
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_TIMEOUT", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = False
SESSION_ABSOLUTE_TIMEOUT = env_int("SESSION_ABSOLUTE_TIMEOUT", 12 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=PUBLIC_BASE_URL.startswith("https://"))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Over https the three cookies carry the __Host- prefix (ASVS 5.0 3.3.1, 3.3.3): browsers then accept them only
# with Secure, for this exact host (no Domain) and Path=/, so no sibling subdomain can set or overwrite them.
# Plain-http development keeps the plain names (a browser refuses a __Host- cookie without Secure).
_COOKIE_PREFIX = "__Host-" if SESSION_COOKIE_SECURE else ""
SESSION_COOKIE_NAME = f"{_COOKIE_PREFIX}sessionid"
CSRF_COOKIE_NAME = f"{_COOKIE_PREFIX}csrftoken"
LANGUAGE_COOKIE_NAME = f"{_COOKIE_PREFIX}django_language"
# The language choice (English/Welsh) is remembered for a year (govserve.web.preferences).
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60

# --- Keys ----------------------------------------------------------------------------
# Key-encryption keys for field-level encryption: "id:base64key" pairs, the
# first is current. The blind-index key is separate. Never stored in the DB.
GOVSERVE_KEYS = env_list("GOVSERVE_KEYS", [])
GOVSERVE_BLIND_INDEX_KEY = env_str("GOVSERVE_BLIND_INDEX_KEY", "")
# Result verification codes (govserve.casework.results, docs/results.md): Ed25519 keys as
# "id:base64key"; the first signs, the others (and the public-only VERIFY keys) still verify.
GOVSERVE_RESULT_SIGNING_KEYS = env_list("GOVSERVE_RESULT_SIGNING_KEYS", [])
GOVSERVE_RESULT_VERIFY_KEYS = env_list("GOVSERVE_RESULT_VERIFY_KEYS", [])
# Unwrapped data keys kept per process (entries, seconds); 0 disables the cache.
GOVSERVE_DATA_KEY_CACHE_SIZE = env_int("GOVSERVE_DATA_KEY_CACHE_SIZE", 1024)
GOVSERVE_DATA_KEY_CACHE_SECONDS = env_int("GOVSERVE_DATA_KEY_CACHE_SECONDS", 30)
# The journey's per-process memory (docs/journeys.md): walked journey states kept per
# application (entries, seconds; 0 turns the cache off), and page views held before they
# are written in bulk (count, seconds; 0 writes each at once; a worker killed without
# exiting loses the page views it held, at most the count).
GOVSERVE_JOURNEY_STATE_CACHE_SIZE = env_int("GOVSERVE_JOURNEY_STATE_CACHE_SIZE", 256)
GOVSERVE_JOURNEY_STATE_CACHE_SECONDS = env_int("GOVSERVE_JOURNEY_STATE_CACHE_SECONDS", 30)
GOVSERVE_JOURNEY_PAGE_VIEW_BUFFER = env_int("GOVSERVE_JOURNEY_PAGE_VIEW_BUFFER", 20)
GOVSERVE_JOURNEY_PAGE_VIEW_BUFFER_SECONDS = env_int("GOVSERVE_JOURNEY_PAGE_VIEW_BUFFER_SECONDS", 2)

# --- Web hardening ----------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", default=False) else None
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST", default=False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],  # no page uses <base> (ASVS 5.0 3.4.3)
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), browsing-topics=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)
CSRF_FAILURE_VIEW = "govserve.web.errors.csrf_failure"
# Proxies in front that append to X-Forwarded-For (rate limits key on the client address they saw).
GOVSERVE_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# /.well-known/security.txt (RFC 9116); it answers 404 until a contact is set.
SECURITY_TXT_CONTACT = env_list("SECURITY_TXT_CONTACT", [])
SECURITY_TXT_POLICY = env_str("SECURITY_TXT_POLICY", "")
SECURITY_TXT_ENCRYPTION = env_str("SECURITY_TXT_ENCRYPTION", "")
SECURITY_TXT_ACKNOWLEDGMENTS = env_str("SECURITY_TXT_ACKNOWLEDGMENTS", "")
SECURITY_TXT_EXPIRES_DAYS = env_int("SECURITY_TXT_EXPIRES_DAYS", 180)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- Uploads and malware scanning (govserve.documents; docs/operations.md) ---------------
# Uploads stay in memory (never a plaintext temporary file), bounded per file by
# GOVSERVE_UPLOAD_MAX_BYTES; keep that at or under clamd's StreamMaxLength.
FILE_UPLOAD_HANDLERS = ["govserve.documents.upload_handlers.BoundedMemoryUploadHandler"]
GOVSERVE_UPLOAD_MAX_BYTES = env_int("GOVSERVE_UPLOAD_MAX_BYTES", 25 * 1024 * 1024)
GOVSERVE_UPLOAD_MAX_IMAGE_PIXELS = env_int("GOVSERVE_UPLOAD_MAX_IMAGE_PIXELS", 50_000_000)
# "clamd://127.0.0.1:3310", "unix:///run/clamav/clamd.ctl", or "test": the built-in
# test scanner, NOT malware protection (EICAR only; `govserve check --deploy` warns).
GOVSERVE_SCANNER = env_str("GOVSERVE_SCANNER", "test")
GOVSERVE_SCANNER_SYNC_TIMEOUT_SECONDS = env_int("GOVSERVE_SCANNER_SYNC_TIMEOUT_SECONDS", 10)
GOVSERVE_SCANNER_TIMEOUT_SECONDS = env_int("GOVSERVE_SCANNER_TIMEOUT_SECONDS", 120)

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("cy", "Cymraeg")]
LOCALE_PATHS = [BASE_DIR / "govserve" / "locale"]
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Who runs the site (the header, accessibility statement, privacy notice, help page) --
# Read by govserve.web.conf; the _CY variants fall back to the English values.
GOVSERVE_SITE_NAME = env_str("GOVSERVE_SITE_NAME", "")
GOVSERVE_SITE_NAME_CY = env_str("GOVSERVE_SITE_NAME_CY", "")
GOVSERVE_ORGANISATION_NAME = env_str("GOVSERVE_ORGANISATION_NAME", "")
GOVSERVE_ORGANISATION_NAME_CY = env_str("GOVSERVE_ORGANISATION_NAME_CY", "")
GOVSERVE_CONTACT_EMAIL = env_str("GOVSERVE_CONTACT_EMAIL", "help@govserve.localhost")
GOVSERVE_CONTACT_PHONE = env_str("GOVSERVE_CONTACT_PHONE", "")
GOVSERVE_DPO_EMAIL = env_str("GOVSERVE_DPO_EMAIL", "dpo@govserve.localhost")
GOVSERVE_POSTAL_ADDRESS = env_str("GOVSERVE_POSTAL_ADDRESS", "")

# --- Static files --------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# GOV.UK Frontend's CSS loads fonts and images from /assets/: whitenoise serves
# govserve/web/public at the site root.
WHITENOISE_ROOT = BASE_DIR / "govserve" / "web" / "public"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media"))))},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Logging ----------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING_CONFIG = None  # govserve.core.logging configures structlog and stdlib logging.
