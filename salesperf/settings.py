"""Settings, read from the environment.

With nothing set it runs on SQLite with eager Celery, so `make demo` works on a fresh laptop.
Production: salesperf.settings_production, which demands what a deployment must set.
"""

import ipaddress
from decimal import Decimal
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
DEBUG = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The addresses or networks (CIDR) of the reverse proxies in front of the app, whose
# X-Forwarded-For is believed; none by default: the client is REMOTE_ADDR. salesperf/proxies.py
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    ipaddress.ip_network(_proxy, strict=False)  # a typo stops the start, not every request

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "teams",
    "kpis",
    "targets",
    # Project-wide tools above the apps: they use every app, and no app uses them.
    "demo",
    "bench",
]

MIDDLEWARE = [
    # First: REMOTE_ADDR becomes the client's address, X-Forwarded-For believed only from
    # TRUSTED_PROXIES (salesperf/proxies.py).
    "salesperf.proxies.ClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "salesperf.csp.ContentSecurityPolicyMiddleware",
    # Above the views' and Django's error handling: their technical pages (DEBUG) replaced.
    "salesperf.errors.BrandedErrorPagesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "salesperf.middleware.ServiceUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Changes to deals are recorded as the request's user's (kpis.deal_history).
    "kpis.deal_history.RecordedByMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "salesperf.urls"
WSGI_APPLICATION = "salesperf.wsgi.application"
ASGI_APPLICATION = "salesperf.asgi.application"

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
            ],
        },
    },
]

# https://docs.djangoproject.com/en/5.2/ref/settings/#databases
# No DATABASE_URL: a SQLite file next to manage.py (the embedded default).
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# A kept connection is checked before reuse: after a database restart the next request
# reconnects instead of failing on a dead connection.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT: it compiled the waterfall's query for 150 ms to run it in 800, and left the full
    # recompute where it was (docs/performance.md, "Session 9"). A page is not a report.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "teams.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Cache: Redis when REDIS_URL is set, else local memory.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # https://whitenoise.readthedocs.io/en/stable/django.html
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# https://docs.djangoproject.com/en/5.2/topics/email/ (password reset mails). No EMAIL_HOST:
# mails are printed on the console; with it, sent over SMTP.
EMAIL_HOST = env("EMAIL_HOST", default="")
_email_backend = "smtp.EmailBackend" if EMAIL_HOST else "console.EmailBackend"
EMAIL_BACKEND = env("EMAIL_BACKEND", default=f"django.core.mail.backends.{_email_backend}")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="salesperf@localhost")
# Where the site is, for the links in e-mails sent without a request (the weekly digest).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# --- Celery: https://docs.celeryq.dev/en/stable/userguide/configuration.html
# No broker configured: tasks run eagerly in-process (the embedded default).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
# A task is acknowledged only once it has finished, and requeued if its worker dies, so a
# killed worker loses nothing; tasks are idempotent, so a redelivery is harmless.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
# Redis hands an unacknowledged task (its worker died) to another worker once it is this old,
# so it must exceed the longest a task may run, else a task still running would also run
# elsewhere. Tests shorten it to see redelivery in seconds. Kombu looks for such tasks only
# every 100 s by default; every 10 s (a third of a short timeout) is cheap. docs/reliability.md
_visibility_timeout = env.int("CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 5 * 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _visibility_timeout,
    "unacked_restore_interval": max(1, min(10, _visibility_timeout // 3)),
    "unacked_restore_throttle": 1,
}
CELERY_BEAT_SCHEDULE = {
    "nightly-full-recompute": {
        "task": "kpis.fan_out_recompute",
        "schedule": crontab(hour=2, minute=15),
    },
    # After the nightly recompute, so statuses see last night's figures.
    "daily-target-alerts": {
        "task": "targets.check_alerts",
        "schedule": crontab(hour=6, minute=30),
    },
    # After Monday's alert check, so the digest's statuses are that morning's.
    "weekly-manager-digest": {
        "task": "targets.send_weekly_digests",
        "schedule": crontab(hour=7, minute=0, day_of_week="mon"),
    },
}

# --- REST framework: https://www.django-rest-framework.org/api-guide/settings/
# The API's routes are in salesperf/api_urls.py; its viewsets add a page_size parameter and
# ordering on top of these defaults (salesperf/api.py: ScopedViewSet).
REST_FRAMEWORK = {
    # Token first: an anonymous request is told 401 with `WWW-Authenticate: Token`, not a bare
    # 403. Session authentication enforces CSRF on unsafe methods.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "teams.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's parsers; the JSON one turns JSON nested too deep to parse into a 400.
    "DEFAULT_PARSER_CLASSES": [
        "salesperf.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # https://www.django-rest-framework.org/api-guide/throttling/ (counted in the cache)
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": "60/minute", "user": "1200/minute"},
    # The client is REMOTE_ADDR, which salesperf.proxies.ClientAddressMiddleware has set from
    # TRUSTED_PROXIES: DRF's default (None) would believe any X-Forwarded-For.
    "NUM_PROXIES": 0,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # DRF's handler, plus: a Django ValidationError (model or service) is a 400 with field errors.
    "EXCEPTION_HANDLER": "salesperf.api.exception_handler",
}

# An API token (POST /api/v1/auth/token/) stops working this many days after it was issued;
# asking again then gives a new one. teams/tokens.py
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=30)

# https://drf-spectacular.readthedocs.io/en/latest/settings.html
SPECTACULAR_SETTINGS = {
    "TITLE": "salesperf API",
    "DESCRIPTION": (
        "Sales performance: the facts, the KPI snapshots computed from them, and scorecards. "
        "Every list, detail and write sees only what the caller may see: a rep their own rows, "
        "a manager the subtrees they manage, an admin everything. Authenticate with a session "
        "(CSRF token on writes) or `Authorization: Token <key>` (POST /api/v1/auth/token/)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Swagger UI's assets come from the drf-spectacular-sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "salesperf.api.document_errors",
    ],
}

# --- salesperf
# First month of the fiscal year (1 = January). A fiscal year is named by the calendar year in
# which it ends: with 4, FY2018 runs from April 2017 to March 2018.
FISCAL_YEAR_START_MONTH = env.int("FISCAL_YEAR_START_MONTH", default=1)
CURRENCY = env("CURRENCY", default="USD")
# Gross margin used by the cltv metric (a fraction; 1 = CLTV on revenue).
GROSS_MARGIN = Decimal(env("GROSS_MARGIN", default="1"))
# lead_conversion_rate counts a lead converted within this many days of its creation.
LEAD_CONVERSION_WINDOW_DAYS = env.int("LEAD_CONVERSION_WINDOW_DAYS", default=90)
# Target status: on track from this share of where a subject should be by today (its pace, or
# attainment for unpaced metrics), at risk from the next, behind below it.
TARGET_ON_TRACK_FROM = env.float("TARGET_ON_TRACK_FROM", default=1.0)
TARGET_AT_RISK_FROM = env.float("TARGET_AT_RISK_FROM", default=0.9)
# The largest CSV file an import takes (each of the CRM layout's files, a targets file), in MB.
# Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not cover uploaded files, and imports read a file
# whole, in one transaction.
IMPORT_MAX_MB = env.int("IMPORT_MAX_MB", default=5)
# The target grid posts every cell, one form field per rep × month: a 1,000-rep team's grid is
# 12,000 fields. Django's default (1,000) would refuse a team of 84. Bodies stay capped at
# DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), so this only lets a legitimate large form through.
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("DATA_UPLOAD_MAX_NUMBER_FIELDS", default=20_000)
