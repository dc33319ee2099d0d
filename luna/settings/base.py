"""Web, security and app settings."""
from .env import BASE_DIR, VAR_DIR, env

DEBUG = env.bool("LUNA_DEBUG", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_celery_results",
    "formtools",
    "sessions.apps.LunaSessionsConfig",
    "operations.apps.OperationsConfig",
    "investigation.apps.InvestigationConfig",
    "analytics.apps.AnalyticsConfig",
    "studio.apps.StudioConfig",
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
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
]

ROOT_URLCONF = "luna.urls"
WSGI_APPLICATION = "luna.wsgi.application"

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
                "sessions.context_processors.role",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "sessions:search"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("LUNA_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static_root"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing root before collectstatic
# WhiteNoise serves the collected files (plotly.js included) from the app itself: no CDN, no extra server.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "analytics.staticfiles.PlotlyFinder",  # the plotly package's own plotly.min.js at static/plotly/
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "sessions.api.authentication.PreparedTokenAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": ["sessions.api.parsers.StrictJSONParser", "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "sessions.pagination.BoundedPageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "sessions.api.schema.LunaAutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Luna API",
    "DESCRIPTION": "Business sessions restored from heterogeneous logs: search, detail, templates.",
    "VERSION": "0.1.0",
    # Swagger UI and ReDoc served from the sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The schema and the docs page need a role like every other read (SPEC §6); default is AllowAny.
    "SERVE_PERMISSIONS": ["sessions.permissions.HasRole"],
    # Several models have a `status`: name each choice set after its class so the schema's enums stay distinct.
    "ENUM_NAME_OVERRIDES": {
        "SessionStatusEnum": "sessions.choices.SessionStatus",
        "CaseStatusEnum": "investigation.models.CaseStatus",
        "JobStateEnum": "operations.choices.JobState",
    },
}

# The most rows one CSV export of a search streams (the file says when it was cut short).
LUNA_EXPORT_MAX_ROWS = env.int("LUNA_EXPORT_MAX_ROWS", default=100_000)

CSRF_FAILURE_VIEW = "luna.errors.csrf_failure"
# Largest request body outside file uploads (a pasted template, an API document); beyond it a clear 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("LUNA_MAX_BODY_BYTES", default=2_621_440)

# Lists count matches up to this many (an exact COUNT over millions would scan), and for at most this long: an
# unselective search probed session by session reaches the cap only after ~0.5 s at 1 M sessions (issue 12); the
# index-only counts that do finish (status, a selective semi-join) take 1–5 ms there, so 20 ms wastes little.
LUNA_COUNT_CAP = env.int("LUNA_COUNT_CAP", default=10_000)
LUNA_COUNT_TIME_MS = env.int("LUNA_COUNT_TIME_MS", default=20)
# A count past the cap, an estimate and a condition's selectivity are kept this long per search (0: never), in the
# cache below: per worker process by default, shared when LUNA_CACHE_URL names one (e.g. redis://127.0.0.1:6379/2).
LUNA_COUNT_CACHE_S = env.int("LUNA_COUNT_CACHE_S", default=60)
CACHES = {"default": env.cache_url("LUNA_CACHE_URL", default="locmemcache://luna")}

# Alert e-mails go through Django's mail backend: the console by default, or LUNA_EMAIL_URL (smtp://user:pw@host:587).
vars().update(env.email_url("LUNA_EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("LUNA_FROM_EMAIL", default="luna@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"client_errors_one_line": {"()": "luna.errors.ClientErrorsOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["client_errors_one_line"]}},
    "root": {"handlers": ["console"], "level": env.str("LUNA_LOG_LEVEL", default="INFO")},
}

# The fact table's columnar replica (MariaDB/MySQL/SQLite; TiDB reads TiFlash instead): Parquet files per template ×
# UTC day, rebuilt by the beat task `refresh-fact-replica` when a day's version moves; the fact path reads current
# days from them and the rest from the row store (analytics/replica). LUNA_FACT_REPLICA=off reads the row store only.
LUNA_FACT_REPLICA = env.bool("LUNA_FACT_REPLICA", default=True)
LUNA_FACT_REPLICA_DIR = env.str("LUNA_FACT_REPLICA_DIR", default=str(VAR_DIR / "replica"))
LUNA_FACT_REPLICA_DAYS_PER_RUN = env.int("LUNA_FACT_REPLICA_DAYS_PER_RUN", default=8)
