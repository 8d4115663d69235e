"""tcpquiz settings, read from the environment (12-factor, django-environ).

Development needs no environment at all: DEBUG is on, the database is a SQLite file under var/ and
the broker and cache are the local Redis. Production sets ``DEBUG=0`` and must then provide
``SECRET_KEY`` and ``ALLOWED_HOSTS`` or the process refuses to start; it passes
``manage.py check --deploy`` with no warning (tests/questions/test_settings.py checks that).

Environment variables: DATABASE_URL, REDIS_URL, SECRET_KEY, DEBUG, ALLOWED_HOSTS,
CSRF_TRUSTED_ORIGINS, SECURE_SSL_REDIRECT, SECURE_HSTS_SECONDS, SECURE_PROXY_SSL_HEADER, EMAIL_URL,
DEFAULT_FROM_EMAIL, CONN_MAX_AGE, DATABASE_PREPARE_THRESHOLD, LOG_LEVEL, TCPQUIZ_EAGER_TASKS,
TCPQUIZ_GRADING_SWEEP_AFTER, TCPQUIZ_GRADING_MAX_ATTEMPTS, TCPQUIZ_GRADING_BATCH_SIZE,
TCPQUIZ_GRADING_DRAIN_SECONDS, TCPQUIZ_GRADING_DRAIN_IDLE_SECONDS, TCPQUIZ_GRADING_GATHER_SECONDS,
TCPQUIZ_VARIANT_POOL_SIZE, TCPQUIZ_VARIANT_POOL_PREPARE_MINUTES and, for tests only,
TCPQUIZ_GRADING_TEST_DELAY_S.
A ``.env`` file at the repository root, if present, is read first (real variables win).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core -------------------------------------------------------------------------------------------
# DEBUG defaults on so a fresh checkout runs; production says DEBUG=0 and is then checked strictly.
DEBUG: bool = env.bool("DEBUG", default=True)

# Development only: `check --deploy` flags it (W009) and DEBUG=0 refuses to run without SECRET_KEY.
_DEV_SECRET_KEY = "django-insecure-tcpquiz-development-key-never-use-in-production"  # noqa: S105
SECRET_KEY: str = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set in the environment when DEBUG is off.")

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in the environment when DEBUG is off.")
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Grading runs inside the web process (no broker, no worker): the single-user embedded mode.
EAGER_TASKS: bool = env.bool("TCPQUIZ_EAGER_TASKS", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # self-hosted Swagger UI: the docs page requests nothing elsewhere
    "django_htmx",
    "lessons",
    "questions",
    "lti_tool",
    "lti",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "tcpquiz.urls"
WSGI_APPLICATION = "tcpquiz.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------------
DATABASES: dict[str, dict[str, Any]] = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'tcpquiz.sqlite3'}"),
}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, with write transactions that queue promptly for the write lock (see there).
    _db["ENGINE"] = "tcpquiz.dbsqlite"
    _db["OPTIONS"] = {
        # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock up front so two
        # writers queue on the busy timeout instead of failing with "database is locked". Reads go
        # through mmap with a 32 MB page cache (the default is 2 MB): at an exam's size the default
        # made a start 30% slower (bench.storm, SQLite: 157 vs 225 starts/s).
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA mmap_size=268435456; PRAGMA cache_size=-32000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not :memory:, so a Celery worker thread and a live server see the test data.
    _db["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db.setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
    # Server-side parameters and prepared statements: a statement run more than
    # DATABASE_PREPARE_THRESHOLD times on a connection is prepared, so PostgreSQL stops planning it
    # anew. Planning the submit's one read (five joins) took ~1 ms, ten times its execution. Set
    # DATABASE_PREPARE_THRESHOLD=off behind a pooler that cannot carry prepared statements (PgBouncer
    # before 1.21 in transaction mode).
    _db["OPTIONS"]["server_side_binding"] = True
    _threshold = env.str("DATABASE_PREPARE_THRESHOLD", default="2")
    _db["OPTIONS"]["prepare_threshold"] = None if _threshold.lower() == "off" else int(_threshold)
# Persistent connections: web processes and Celery workers don't reconnect per request or task.
_db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
_db["CONN_HEALTH_CHECKS"] = True

# --- Redis: broker and cache ------------------------------------------------------------------------
REDIS_URL: str = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

CACHES: dict[str, dict[str, Any]]
if EAGER_TASKS:
    # No Redis in the embedded mode: a per-process cache is enough for one web process.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    CACHES = {
        "default": {
            "BACKEND": "tcpquiz.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "tcpquiz",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }

# --- Auth -------------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "questions:dashboard"
LOGOUT_REDIRECT_URL = "home"

# Password-reset mail: printed on the console unless EMAIL_URL names a server (smtp+tls://user:pw@host:587).
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND: str = _email["EMAIL_BACKEND"]
EMAIL_HOST: str = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT: int = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER: str = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD: str = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS: bool = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL: bool = bool(_email.get("EMAIL_USE_SSL"))
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL: str = env.str("DEFAULT_FROM_EMAIL", default="tcpquiz <noreply@localhost>")

# --- Internationalisation ---------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every start when it is missing (before collectstatic)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security ---------------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT: bool = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers and process managers probe /healthz over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS: int = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS: bool = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD: bool = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=1 (it must set X-Forwarded-Proto).
    if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Rate limits (django-ratelimit on web forms, DRF throttles on the API) --------------------------
RATELIMIT_USE_CACHE = "default"
RATELIMIT_FAIL_OPEN = True
SILENCED_SYSTEM_CHECKS = [
    # Django's own RedisCache increments atomically; django-ratelimit only knows django-redis.
    "django_ratelimit.W001",
    # The embedded single-process mode uses a per-process cache on purpose.
    *(["django_ratelimit.E003"] if EAGER_TASKS else []),
]

# --- REST API ---------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an unauthenticated request then gets 401 with WWW-Authenticate, not 403.
        "tcpquiz.authentication.CompiledTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["tcpquiz.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "tcpquiz.errors.api_exception_handler",
    # DRF's anon, user and scoped throttles, their cache reads and writes batched (tcpquiz.throttling).
    "DEFAULT_THROTTLE_CLASSES": ["tcpquiz.throttling.RateLimits"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/min"),
        "user": env.str("THROTTLE_USER", default="1200/min"),
        "answer_submit": env.str("THROTTLE_ANSWER_SUBMIT", default="60/min"),
        "auth": env.str("THROTTLE_AUTH", default="10/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "tcpquiz API",
    "DESCRIPTION": (
        "Learn, practise and be examined on how TCP opens and closes connections. Every error body is "
        '{"error": {"code": ..., "message": ..., "details": {...}}}.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "AttemptStatusEnum": "questions.models.Attempt.Status",
        "AnswerStatusEnum": "questions.models.Answer.Status",
    },
}
SPECTACULAR_SETTINGS |= {
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery -----------------------------------------------------------------------------------------
# Eager mode never talks to a broker (Celery still builds a producer for eager calls: keep it in memory).
CELERY_BROKER_URL = "memory://localhost/" if EAGER_TASKS else REDIS_URL
CELERY_TASK_ALWAYS_EAGER = EAGER_TASKS
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A task is acknowledged after it ran, and given back if its worker dies mid-task (tasks are idempotent).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_SOFT_TIME_LIMIT = 30
CELERY_TASK_TIME_LIMIT = 60
# Celery's Django fixup closes every database connection around every task unless told otherwise (a
# PostgreSQL reconnect per task costs more than grading). tcpquiz.celery instead treats a task like a
# request: close_old_connections() before and after, which honours CONN_MAX_AGE and the health check.
CELERY_DB_REUSE_MAX = 1_000_000
# A dead broker must not hold a web request: fail the publish within about a second.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.3,
}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 5,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.3,
    # Unacknowledged (acks_late) tasks come back after this many seconds; above the hard time limit.
    "visibility_timeout": 600,
}
CELERY_BEAT_SCHEDULE = {
    "answers-pending-sweep": {
        "task": "questions.tasks.answers_pending_sweep",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "attempts-expire-overdue": {
        "task": "questions.tasks.attempts_expire_overdue",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "variant-pools-prepare": {
        "task": "questions.tasks.variant_pools_prepare",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "stored-variants-prune": {
        "task": "questions.tasks.stored_variants_prune",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "lti-scores-publish": {
        "task": "lti.tasks.scores_publish_due",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Grading ----------------------------------------------------------------------------------------
# An answer still pending after this many seconds is enqueued again by the sweep.
GRADING_SWEEP_AFTER_SECONDS: int = env.int("TCPQUIZ_GRADING_SWEEP_AFTER", default=20)
# After this many grading runs without a grade, an answer is marked failed (and shown as such).
GRADING_MAX_ATTEMPTS: int = env.int("TCPQUIZ_GRADING_MAX_ATTEMPTS", default=5)
# Answers graded per transaction by grade_answers_batch (one claim, one commit for the lot).
GRADING_BATCH_SIZE: int = env.int("TCPQUIZ_GRADING_BATCH_SIZE", default=50)
# A draining grade_answers_batch task hands over to a fresh task after this long (time limits, fairness).
GRADING_DRAIN_SECONDS: float = env.float("TCPQUIZ_GRADING_DRAIN_SECONDS", default=5.0)
# An idle drain keeps looking (every 50 ms) this long before it ends: a steady trickle of submits is
# then graded by one drain, not one task each.
GRADING_DRAIN_IDLE_SECONDS: float = env.float("TCPQUIZ_GRADING_DRAIN_IDLE_SECONDS", default=1.0)
# After a batch that was not full, a lingering drain waits this long since it looked before it looks
# again, so answers arriving one by one are graded several at a time. Most of a batch's cost is the
# same whatever its size: per answer 1.8 ms of CPU alone, 0.30 ms in tens, 0.16 ms in fifties
# (measured, SQLite). It adds at most this much to submit-to-graded; 0 looks again at once.
GRADING_GATHER_SECONDS: float = env.float("TCPQUIZ_GRADING_GATHER_SECONDS", default=0.1)
# TEST ONLY: seconds slept before grading each answer, so fault tests can kill a worker mid-grading.
GRADING_TEST_DELAY_S: float = env.float("TCPQUIZ_GRADING_TEST_DELAY_S", default=0.0)

# --- Variant pools (questions.variant_pool) ---------------------------------------------------------
# Ready-made variants per (family, difficulty) kept in Redis, so starting an attempt does not generate
# them; 0 turns the pools off. Before a quiz opens, its pools are filled for every enrolled student.
VARIANT_POOL_SIZE: int = env.int("TCPQUIZ_VARIANT_POOL_SIZE", default=200)
# Quizzes opening within this many minutes get their pools filled (by the beat task variant_pools_prepare).
VARIANT_POOL_PREPARE_MINUTES: int = env.int("TCPQUIZ_VARIANT_POOL_PREPARE_MINUTES", default=15)

# --- Logging ----------------------------------------------------------------------------------------
LOG_LEVEL: str = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "tcpquiz": {"level": LOG_LEVEL},
        "questions": {"level": LOG_LEVEL},
        "lessons": {"level": LOG_LEVEL},
        "django.request": {"level": "ERROR"},
    },
}

CSRF_FAILURE_VIEW = "tcpquiz.errors.csrf_failure"
ADMIN_URL: str = env.str("ADMIN_URL", default="admin/")
