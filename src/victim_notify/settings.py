"""Django settings, all read from the environment with safe local defaults.

The defaults run a self-contained installation on SQLite that never sends a real message
(texts and emails go to the development outbox). Production sets DATABASE_URL, EMAIL_URL,
SMS_PROVIDERS and the provider credentials; see the README's configuration table.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from victim_notify.environment import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_optional,
    env_rate,
    env_str,
)

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("VN_DATA_DIR", str(Path.cwd() / "var"))).resolve()


def _secret_key() -> str:
    configured = env_optional("SECRET_KEY")
    if configured:
        return configured
    # A local installation gets a key of its own, kept beside its database.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key_file = DATA_DIR / "secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()


def _data_keys(name: str, file_name: str) -> list[str]:
    """Versioned keys (`version:base64`, current first) from NAME or NAME_FILE; a local
    installation without them gets one of its own beside its database, never in the repo."""
    configured = env_list(name, [])
    if configured:
        return configured
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key_file = DATA_DIR / file_name
    if not key_file.exists():
        key_file.write_text(f"1:{base64.b64encode(secrets.token_bytes(32)).decode()}")
        key_file.chmod(0o600)
    return [k.strip() for k in key_file.read_text().split(",") if k.strip()]


# Personal data at rest (docs/privacy.md): key-encryption keys for AES-256-GCM, and the HMAC
# keys of the blind indexes that let it be found by equality.
ENCRYPTION_KEYS = _data_keys("VN_ENCRYPTION_KEYS", "encryption-keys")
BLIND_INDEX_KEYS = _data_keys("VN_BLIND_INDEX_KEYS", "blind-index-keys")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "ninja",  # serves the API docs' Swagger UI from our own static files, not a CDN
    "django_tasks",
    "django_tasks_db",
    "victim_notify.privacy",
    "victim_notify.accounts",
    "victim_notify.agencies",
    "victim_notify.contacts",
    "victim_notify.intake",
    "victim_notify.calls",
    "victim_notify.cases",
    "victim_notify.rules",
    "victim_notify.messages",
    "victim_notify.providers",
    "victim_notify.replies",
    "victim_notify.surveys",
    "victim_notify.worker",
    "victim_notify.staff",
    "victim_notify.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before sessions and views, so a refused request costs one counter.
    "victim_notify.throttle.ThrottleMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "victim_notify.urls"
WSGI_APPLICATION = "victim_notify.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "victim_notify.staff.navigation.menu",
            ],
        },
    },
]


def _database() -> dj_database_url.DBConfig:
    default_sqlite = f"sqlite:///{DATA_DIR / 'victim-notify.sqlite3'}"
    url = env_str("DATABASE_URL", default_sqlite)
    try:
        config = dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL cannot be read: {exc}") from exc
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["ENGINE"] = "victim_notify.sqlite"  # Django's, with fair waiting for the lock
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # WAL lets readers go on while one process writes; IMMEDIATE takes the write lock at
        # the start of a transaction so two writers queue instead of failing half-way; the
        # busy timeout is how long they queue.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": env_float("SQLITE_BUSY_TIMEOUT", 20.0, minimum=1),
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        }
        config["CONN_MAX_AGE"] = None
        # A file, not memory, so worker processes started by tests share it; one per test run,
        # so two runs on one machine never share a database.
        config["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}
    else:
        config["TEST"] = {"NAME": f"test_{config['NAME']}_{os.getpid()}"}
        pool_size = env_int("DB_POOL_SIZE", 0, minimum=0)
        if pool_size:
            # psycopg's pool inside each process (gunicorn worker): threads borrow a
            # connection per request instead of each holding one open.
            config["CONN_MAX_AGE"] = 0
            config.setdefault("OPTIONS", {})["pool"] = {
                "min_size": 1,
                "max_size": pool_size,
                "timeout": env_float("DB_POOL_TIMEOUT", 10.0, minimum=0.1),
            }
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # counts failures and refuses locked accounts
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",  # only to read hashes made before argon2
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "victim_notify.accounts.passwords.BannedPasswordValidator"},
]

LANGUAGE_CODE = "en"
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
LANGUAGES = [("en", "English"), ("es", "Español")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns at start-up without it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "staff:login"
# CJIS: a session locks after 30 minutes without use (each request starts the 30 minutes again)
# and when the browser closes.
SESSION_COOKIE_AGE = env_int("VN_IDLE_LOCK_MINUTES", 30, minimum=1) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Served over HTTPS (SECURE_COOKIES=true): browsers are told to use nothing else for a year.
SECURE_HSTS_SECONDS = 31_536_000 if SESSION_COOKIE_SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False  # the agency's other sites are not ours to bind
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "SAMEORIGIN"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No inline scripts anywhere: every script is a file served by us. Inline styles stay allowed
# for the server-drawn SVG charts (matplotlib writes style attributes).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
}

# Reverse proxies in front of the web app: from these addresses, the client's address is the
# last one the proxy added to X-Forwarded-For (for the audit trail); from anywhere else the
# header is ignored, since a client can send whatever it likes.
TRUSTED_PROXIES = env_list("VN_TRUSTED_PROXIES", [])

# Sign-in lockout (CJIS): 5 failed attempts within 15 minutes switch the account off until an
# agency administrator switches it back on (accounts/signals.py), whatever address they came from.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "staff/locked_out.html"
AXES_VERBOSE = False
# Locking by address as well would let one wrong-typing colleague lock out a whole station
# behind one NAT address; attempts by address are rate-limited instead (issue 6).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
# Rate limits per client address (victim_notify/throttle.py), counted in the database so every
# process shares them: "N/m", "N/h", "N/15m", or "off". Over one, the answer is 429.
RATE_LIMITS = {
    # Failed sign-ins (password or code, staff app or admin) from one address.
    "login_failed": env_rate("VN_RATE_LOGIN_FAILED", "20/15m"),
    # Webhook requests that fail the signature check; genuine ones are never limited.
    "webhook_invalid": env_rate("VN_RATE_WEBHOOK_INVALID", "30/m"),
    # Details, unsubscribe and survey pages: all requests, and those with a link not valid.
    "public": env_rate("VN_RATE_PUBLIC", "300/m"),
    "public_invalid": env_rate("VN_RATE_PUBLIC_INVALID", "30/m"),
    # Every form sent on the case page (a report number to look up, a code, a choice).
    "case_lookup": env_rate("VN_RATE_CASE_LOOKUP", "30/15m"),
    # The API: all requests, and those refused for a missing or wrong token.
    "api": env_rate("VN_RATE_API", "6000/m"),
    "api_unauthenticated": env_rate("VN_RATE_API_UNAUTHENTICATED", "30/m"),
}
OTP_TOTP_ISSUER = env_str("VN_OTP_ISSUER", "Victim Notify")

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
    }
}

# ---- Victim Notify -------------------------------------------------------------------------

# Where the web app is reachable from providers (status callbacks) and staff.
PUBLIC_URL = env_str("VN_PUBLIC_URL", "http://localhost:8000").rstrip("/")

# Email: smtp://[user:password@]host:port, smtps:// (implicit TLS), smtp+starttls://, or
# outbox:// (kept in the database and shown at /dev/outbox; nothing leaves the machine).
EMAIL_URL = env_str("EMAIL_URL", "outbox://")
# DKIM signing of outgoing email by its From domain: the selector whose public key that domain
# publishes at <selector>._domainkey.<domain>, and the RSA private key in PEM (or give
# DKIM_PRIVATE_KEY_FILE). Both or neither.
DKIM_SELECTOR = env_optional("DKIM_SELECTOR")
DKIM_PRIVATE_KEY = env_optional("DKIM_PRIVATE_KEY")
# Bounces: with an address here (bounces@notify.example.gov), each email's envelope sender is
# bounces+<notification id>@notify.example.gov, so a bounce names its message. The mail for
# that address, and for the agencies' reply-to addresses, goes to `victim-notify mailbox`.
BOUNCE_ADDRESS = env_optional("VN_BOUNCE_ADDRESS")
# Texts: "outbox" (development) or "twilio".
# Text providers in the order they are tried (an agency can set its own order in the admin):
# any of "twilio", "smpp", "outbox". Past FAILOVER_AFTER consecutive temporary failures a
# provider is taken out of use until a health check finds it answering again.
SMS_PROVIDERS = env_list("SMS_PROVIDERS", ["outbox"])
FAILOVER_AFTER = env_int("VN_FAILOVER_AFTER", 5, minimum=1)
# Texts through an SMPP 3.4 link: smpp://system_id:password@host:port?window=10
SMPP_URL = env_str("SMPP_URL", "")
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
# Only changed to point the official SDK at a local stand-in of the Messages API.
TWILIO_API_URL = env_str("TWILIO_API_URL", "https://api.twilio.com").rstrip("/")

# The development outbox page and the SMTP sink that feeds it.
DEV_OUTBOX_ENABLED = env_bool("VN_DEV_OUTBOX", True)

# Files an RMS drops for import: VN_DROP_DIR/<agency slug>/*.jsonl|*.csv
DROP_DIR = Path(env_str("VN_DROP_DIR", str(DATA_DIR / "drop")))
# The FBI's NIBRS IEPD schema (its base-xsd/nibrs/2019/nibrs.xsd, with the files it imports
# beside it), when the agency has it: NIBRS XML is then checked against it too.
NIBRS_SCHEMA = env_optional("VN_NIBRS_SCHEMA")

# The sender.
WORKER_BATCH_SIZE = env_int("VN_WORKER_BATCH", 200, minimum=1)
WORKER_POLL_SECONDS = env_float("VN_WORKER_POLL", 0.2, minimum=0.01)
SEND_CONCURRENCY = env_int("VN_SEND_CONCURRENCY", 8, minimum=1)
PROVIDER_TIMEOUT_SECONDS = env_float("VN_PROVIDER_TIMEOUT", 15.0, minimum=0.1)
# A claimed message whose worker has not recorded an outcome within this time is looked at
# again. It must be far longer than a provider call can take.
LEASE_SECONDS = env_int("VN_LEASE_SECONDS", 300, minimum=1)
RETRY_BASE_SECONDS = env_float("VN_RETRY_BASE", 30.0, minimum=0)
RETRY_MAX_SECONDS = env_float("VN_RETRY_MAX", 1800.0, minimum=0)
MAX_SEND_ATTEMPTS = env_int("VN_MAX_ATTEMPTS", 8, minimum=1)

INTAKE_BATCH_LIMIT = 1000
# A batch of 1,000 reports with several people each runs to a few megabytes.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("VN_MAX_REQUEST_BYTES", 25 * 1024 * 1024, minimum=1024)
# Uploaded files (samples of an RMS export, with names and phones) are held in memory only,
# never written to a temporary file; a request larger than FILE_UPLOAD_MAX_MEMORY_SIZE
# (2.5 MB) carries no file at all, and the page that takes one says so.
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.MemoryFileUploadHandler"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {"()": "victim_notify.logs.StructuredFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "structured"},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "twilio": {"level": "WARNING"},
        "mail.log": {"level": "WARNING"},
    },
}
