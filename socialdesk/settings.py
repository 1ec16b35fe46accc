"""All settings come from the environment; see docs/DEPLOY.md for the list."""

import ipaddress
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from socialdesk.lib.env import (
    data_dir,
    database_from_url,
    env,
    env_bool,
    env_int,
    kept_key,
    sqlite_database,
)

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    # A per-installation key kept in the data directory: sessions survive
    # restarts, and no key is ever committed.
    from django.core.management.utils import get_random_secret_key

    SECRET_KEY = kept_key(DATA_DIR / "secret_key", get_random_secret_key)

# Keys that encrypt channel credentials and webhook secrets at rest
# (connectors.credentials): Fernet keys, comma-separated, the first encrypting
# and all decrypting, so that a new key can be put first and the stored
# secrets re-encrypted with `socialdesk webhook rekey` before the old one is
# dropped. Without it, a per-installation key kept in the data directory,
# like SECRET_KEY's; every process of a scale-out deployment must be given
# the same keys.
CREDENTIALS_KEYS = [k.strip() for k in env("CREDENTIALS_KEYS", "").split(",") if k.strip()]
if not CREDENTIALS_KEYS:
    from base64 import urlsafe_b64encode

    CREDENTIALS_KEYS = [kept_key(DATA_DIR / "credentials_key",
                                 lambda: urlsafe_b64encode(os.urandom(32)).decode())]

ALLOWED_HOSTS = [h for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "socialdesk.accounts",
    "socialdesk.audit",
    "socialdesk.connectors",
    "socialdesk.contacts",
    "socialdesk.ingestion",
    "socialdesk.triage",
    "socialdesk.routing",
    "socialdesk.cases",
    "socialdesk.notifications",
    "socialdesk.analytics",
    "socialdesk.search",
    "socialdesk.web",
    "socialdesk.api",
]

MIDDLEWARE = [
    # Outermost, so that it sees every answer under /api/, whoever made it.
    "socialdesk.api.middleware.JsonErrorsMiddleware",
    "socialdesk.web.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "socialdesk.web.middleware.LoginThrottleMiddleware",
    "socialdesk.web.middleware.LoginRequiredMiddleware",
    "socialdesk.web.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "socialdesk.urls"
WSGI_APPLICATION = "socialdesk.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:inbox"
LOGOUT_REDIRECT_URL = "web:login"

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
            ],
        },
    },
]

DATABASE_URL = env("DATABASE_URL")
DATABASES = {
    "default": database_from_url(DATABASE_URL)
    if DATABASE_URL
    else sqlite_database(DATA_DIR / "socialdesk.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Static files are served by WhiteNoise straight from the installed package,
# so the embedded mode needs no collectstatic step and no CDN.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Security. `manage.py check --deploy` with an https SITE_URL leaves two warnings,
# both intended (socialdesk/web/tests/test_security_settings.py keeps it so):
# W008, the TLS-terminating proxy (not the desk) redirects http to https, and
# W021, HSTS preload is the domain owner's commitment, so it is opt-in.
SITE_HTTPS = SITE_URL.startswith("https://")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Pages take the CSRF token from the page ({% csrf_token %}, hx-headers), never from
# the cookie, so script has no need to read it.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", SITE_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if SITE_HTTPS and not CSRF_TRUSTED_ORIGINS:
    # Behind a TLS-terminating proxy the desk's own origin is an https one.
    CSRF_TRUSTED_ORIGINS = ["https://" + SITE_URL.removeprefix("https://").split("/")[0]]
SESSION_COOKIE_AGE = 12 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = False  # a shift outlives a closed tab; 12 h at most
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The reverse proxies in front of the desk, as addresses or networks, comma-separated
# (e.g. "127.0.0.1" or "10.0.0.0/24, 2001:db8::/64"); none: clients connect directly.
# X-Forwarded-For and X-Forwarded-Proto are read only on a request from one of them
# (web.middleware.TrustedProxyMiddleware drops them from anyone else): the throttle
# then counts the client's address, and Django knows a request came over https
# (HSTS is sent only on those). A count of proxies, as TRUSTED_PROXIES was, cannot
# tell a proxy from a client that reaches the desk directly, so it is refused.
TRUSTED_PROXY_ADDRESSES = []
for _value in filter(None, (v.strip() for v in env("TRUSTED_PROXY_ADDRESSES").split(","))):
    try:
        TRUSTED_PROXY_ADDRESSES.append(str(ipaddress.ip_network(_value)))
    except ValueError as _e:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXY_ADDRESSES: {_value!r} is not an address or a network such as "
            f"10.0.0.0/24 ({_e})") from None
if env("TRUSTED_PROXIES").strip() not in ("", "0"):
    raise ImproperlyConfigured(
        "TRUSTED_PROXIES is no longer read: list the proxies' addresses in "
        "TRUSTED_PROXY_ADDRESSES instead (e.g. TRUSTED_PROXY_ADDRESSES=127.0.0.1)")
if TRUSTED_PROXY_ADDRESSES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 3600 if SITE_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", False)

AUTHENTICATION_BACKENDS = ["socialdesk.accounts.backends.ThrottledModelBackend"]
# Login throttling (socialdesk/accounts/throttle.py), within the window: this many
# failed logins for a username from one address refuse it there (not elsewhere) for
# LOGIN_LOCKOUT_MINUTES; this many from one address, any usernames, refuse there the
# usernames that failed from it. Bad API tokens count apart, per address, and only
# bad tokens are refused. A valid token, or the right password for a username that
# has not failed from the address, is never refused for what others sent.
LOGIN_FAILURES_PER_USER = env_int("LOGIN_FAILURES_PER_USER", 5)
LOGIN_FAILURES_PER_IP = env_int("LOGIN_FAILURES_PER_IP", 20)
LOGIN_FAILURE_WINDOW_MINUTES = env_int("LOGIN_FAILURE_WINDOW_MINUTES", 15)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
for _name in ("LOGIN_FAILURES_PER_USER", "LOGIN_FAILURES_PER_IP",
              "LOGIN_FAILURE_WINDOW_MINUTES", "LOGIN_LOCKOUT_MINUTES"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be 1 or more, not {globals()[_name]}")

# Scale-out mode: a broker URL sends pipeline tasks to Celery workers. Without
# one, the very same task functions run in-process (the embedded mode).
SCALE_OUT = bool(env("CELERY_BROKER_URL"))
CELERY_BROKER_URL = env("CELERY_BROKER_URL") or "memory://localhost/"
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ALWAYS_EAGER = not SCALE_OUT
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "socialdesk")
# A task is acknowledged when it ends, and handed back to the broker when its
# worker dies under it: a killed worker or pool child costs a retry, never a batch.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Every broker call is bounded: a broker that accepts connections but never
# answers costs a request this long (twice, with the one publish retry), not forever.
BROKER_TIMEOUT_SECONDS = env_int("BROKER_TIMEOUT_SECONDS", 5)
# A message a worker took and never acknowledged (the whole worker died) goes
# back to the queue after this long (Redis); the pipeline's and the outbox's
# sweepers wait as long before they queue again what they find lost.
TASK_VISIBILITY_TIMEOUT_SECONDS = env_int("TASK_VISIBILITY_TIMEOUT_SECONDS", 600)
# Stored posts nobody queued (the process died between the commit and the
# queue, or the broker was down) are processed or queued after this long.
SWEEP_GRACE_SECONDS = env_int("SWEEP_GRACE_SECONDS", 60)
for _name in ("BROKER_TIMEOUT_SECONDS", "TASK_VISIBILITY_TIMEOUT_SECONDS", "SWEEP_GRACE_SECONDS"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be 1 or more, not {globals()[_name]}")
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT_SECONDS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": TASK_VISIBILITY_TIMEOUT_SECONDS,
    "socket_timeout": BROKER_TIMEOUT_SECONDS,
    "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
    # RabbitMQ (py-amqp) reads and writes.
    "read_timeout": BROKER_TIMEOUT_SECONDS,
    "write_timeout": BROKER_TIMEOUT_SECONDS,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.2,
                                    "interval_step": 0.5, "interval_max": 1.0}
# A worker that loses the broker stops what it holds (the broker redelivers it)
# rather than finishing work it can no longer acknowledge.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True

# Posts are processed in batches of this size: the models and the database
# are far faster per post in bulk.
PIPELINE_BATCH_SIZE = env_int("PIPELINE_BATCH_SIZE", 1000)
# Scale-out: a worker whose task brings fewer posts takes other posts waiting
# on the same channels along, up to this many in all (a backlog of small
# tasks is worked off in large batches); 0 keeps each task to its own posts.
WORKER_BATCH_SIZE = env_int("WORKER_BATCH_SIZE", PIPELINE_BATCH_SIZE)
for _name, _least in (("PIPELINE_BATCH_SIZE", 1), ("WORKER_BATCH_SIZE", 0)):
    # A batch is one transaction: beyond this it holds its locks too long.
    if not _least <= globals()[_name] <= 100_000:
        raise ImproperlyConfigured(f"{_name} must be {_least} to 100,000, not {globals()[_name]}")
# Processes that share the triage of a large batch in the embedded mode (see
# triage/spread.py); Celery workers are the parallelism of the scale-out mode.
TRIAGE_PROCESSES = env_int("TRIAGE_PROCESSES", 1 if SCALE_OUT else min(os.cpu_count() or 1, 4))
# The accurate tier's encoder runs on threads of its own: each of those
# processes gets its share of the cores, or they would take turns on the same
# ones. Read from the environment, which the helper processes inherit.
TRIAGE_ENCODER_THREADS = env_int("TRIAGE_ENCODER_THREADS",
                                 max(1, (os.cpu_count() or 1) // TRIAGE_PROCESSES))
if TRIAGE_ENCODER_THREADS < 1:
    raise ImproperlyConfigured(f"TRIAGE_ENCODER_THREADS={TRIAGE_ENCODER_THREADS}: "
                               "use a number of threads, 1 or more")
os.environ["TRIAGE_ENCODER_THREADS"] = str(TRIAGE_ENCODER_THREADS)
# Which trained tier judges posts: cascade (default: the fast tier, and the
# accurate one on the posts it is unsure of), accurate or fast (bulk backfills:
# `--tier fast` on import and triage); see socialdesk/triage/classify/.
TRIAGE_TIER = env("TRIAGE_TIER", "cascade")
if TRIAGE_TIER not in ("fast", "accurate", "cascade"):
    raise ImproperlyConfigured(f"TRIAGE_TIER={TRIAGE_TIER!r}: use fast, accurate or cascade")
# The clock (SLA warnings and breaches, follow-ups, reassignment, queued
# cases): Celery beat runs it in the scale-out mode (`socialdesk scheduler`),
# a thread of `socialdesk serve` in the embedded mode.
CLOCK_INTERVAL_SECONDS = env_int("CLOCK_INTERVAL_SECONDS", 30)
# Accounts whose platform says when something arrives (IMAP IDLE) are fetched at
# once (connectors.watching), besides their polls; in the process that runs the clock.
WATCH_ACCOUNTS = env_bool("WATCH_ACCOUNTS", True)
CELERY_BEAT_SCHEDULE = {
    "clock": {"task": "cases.tick_clock", "schedule": float(CLOCK_INTERVAL_SECONDS)},
    # Computed contact tags lapse when the posts behind them grow old.
    "contact-tags": {"task": "contacts.refresh_tags", "schedule": 24 * 3600.0},
}
# Domains replies may link to (guideline check); empty: links are not checked.
BRAND_LINK_DOMAINS = [d for d in env("BRAND_LINK_DOMAINS", "").split(",") if d.strip()]
# The brand's own phone numbers and e-mail addresses, comma-separated: a public
# reply may give them out (guideline check).
BRAND_CONTACTS = [c.strip() for c in env("BRAND_CONTACTS", "").split(",") if c.strip()]
MAX_POST_CHARS = env_int("MAX_POST_CHARS", 40_000)
API_MAX_BATCH = env_int("API_MAX_BATCH", 1000)

# Where the file delivery target writes outgoing replies until real channel
# connectors are configured.
OUTBOX_DIR = Path(env("OUTBOX_DIR", str(DATA_DIR / "outbox")))

# --- API request limits (docs/IMPORT.md, "The batch API") ---
# The batch endpoints (POST /api/v1/posts, /api/v1/triage) take a body of up to
# API_MAX_BODY_BYTES, so that a batch of API_MAX_BATCH records of MAX_POST_CHARS
# characters always fits: each character of a text counted at 6 bytes, the
# length of JSON's longest escape for one (\u00e9), and each record given
# API_RECORD_OVERHEAD_BYTES for its other fields and the JSON around them. A
# character beyond U+FFFF (most emoji) is one character and, escaped, two
# (12 bytes): send such text as UTF-8, where it takes 4. Every other endpoint
# keeps Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB). Past its limit a body
# is refused with 413, unread.
API_RECORD_OVERHEAD_BYTES = env_int("API_RECORD_OVERHEAD_BYTES", 64 * 1024)
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES",
                             API_MAX_BATCH * (6 * MAX_POST_CHARS + API_RECORD_OVERHEAD_BYTES))
# The signed webhook (docs/CONNECTORS.md): its body is read before the sender is
# known (the signature covers it), so its limit is far below the batch API's,
# and a signature's timestamp may be this far from the desk's clock.
WEBHOOK_MAX_BODY_BYTES = env_int("WEBHOOK_MAX_BODY_BYTES", 25 * 1024 * 1024)
WEBHOOK_TOLERANCE_SECONDS = env_int("WEBHOOK_TOLERANCE_SECONDS", 300)
for _name in ("API_MAX_BATCH", "API_RECORD_OVERHEAD_BYTES", "API_MAX_BODY_BYTES",
              "WEBHOOK_MAX_BODY_BYTES", "WEBHOOK_TOLERANCE_SECONDS"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be 1 or more, not {globals()[_name]}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}

if not DEBUG and SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured("SECRET_KEY must be set to a real secret when DEBUG is off")
