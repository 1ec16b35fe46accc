"""All settings come from the environment; see docs/DEPLOY.md for the list."""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from socialdesk.lib.env import data_dir, database_from_url, env, env_bool, env_int, sqlite_database

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    # A per-installation key kept in the data directory: sessions survive
    # restarts, and no key is ever committed.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        key_file.write_text(get_random_secret_key())
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

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
    "socialdesk.web",
    "socialdesk.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
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

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", SITE_URL.startswith("https://"))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = 12 * 3600

# Scale-out mode: a broker URL sends pipeline tasks to Celery workers. Without
# one, the very same task functions run in-process (the embedded mode).
SCALE_OUT = bool(env("CELERY_BROKER_URL"))
CELERY_BROKER_URL = env("CELERY_BROKER_URL") or "memory://localhost/"
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ALWAYS_EAGER = not SCALE_OUT
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "socialdesk")
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# Posts are processed in batches of this size: the models and the database
# are far faster per post in bulk.
PIPELINE_BATCH_SIZE = env_int("PIPELINE_BATCH_SIZE", 1000)
# Processes that share the triage of a large batch in the embedded mode (see
# triage/spread.py); Celery workers are the parallelism of the scale-out mode.
TRIAGE_PROCESSES = env_int("TRIAGE_PROCESSES", 1 if SCALE_OUT else min(os.cpu_count() or 1, 4))
# Which trained tier judges posts: fast (default), accurate or cascade (both
# need `pip install 'socialdesk[ml]'`); see socialdesk/triage/classify/.
TRIAGE_TIER = env("TRIAGE_TIER", "fast")
if TRIAGE_TIER not in ("fast", "accurate", "cascade"):
    raise ImproperlyConfigured(f"TRIAGE_TIER={TRIAGE_TIER!r}: use fast, accurate or cascade")
# The clock (SLA warnings and breaches, follow-ups, reassignment, queued
# cases): Celery beat runs it in the scale-out mode (`socialdesk scheduler`),
# a thread of `socialdesk serve` in the embedded mode.
CLOCK_INTERVAL_SECONDS = env_int("CLOCK_INTERVAL_SECONDS", 30)
CELERY_BEAT_SCHEDULE = {
    "clock": {"task": "cases.tick_clock", "schedule": float(CLOCK_INTERVAL_SECONDS)},
}
# Domains replies may link to (guideline check); empty: links are not checked.
BRAND_LINK_DOMAINS = [d for d in env("BRAND_LINK_DOMAINS", "").split(",") if d.strip()]
MAX_POST_CHARS = env_int("MAX_POST_CHARS", 40_000)
API_MAX_BATCH = env_int("API_MAX_BATCH", 1000)

# Where the file delivery target writes outgoing replies until real channel
# connectors are configured.
OUTBOX_DIR = Path(env("OUTBOX_DIR", str(DATA_DIR / "outbox")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}

if not DEBUG and SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured("SECRET_KEY must be set to a real secret when DEBUG is off")
