"""OpsPortal settings, read from the environment (django-environ).

Every integration has one block with an ``*_ENABLED`` switch that defaults to
"its required values are present"; an unset integration is *not configured*,
never a crash. ``NAME_FILE`` is read before ``NAME`` for every value
(``FileAwareEnv``), so secrets can come from mounted files.

Over 300 lines on purpose: one block per concern, and every value the environment can
change is found in this one file (README "Configuration", deploy/env.example).
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.FileAwareEnv()
# `.env` (written by `make run` on its first run: opsportal/first_run.py) fills in what the
# environment does not set. OPSPORTAL_ENV_FILE names another file; empty = none (the test
# suite, so a developer's DEBUG=true never leaks into it).
ENV_FILE = env.str("OPSPORTAL_ENV_FILE", default=str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).exists():
    environ.Env.read_env(ENV_FILE)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required unless DEBUG=true.")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG-true-0123456789"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "opsportal.apps.OpsPortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "axes",
    "ninja",  # the staff API's docs page uses its bundled Swagger UI, not a CDN
    "opsportal.apps.OpsPortalConfig",
    "audit.apps.AuditConfig",
    "staff.apps.StaffConfig",
    "integrations.apps.IntegrationsConfig",
    "vouchers.apps.VouchersConfig",
    "campaigns.apps.CampaignsConfig",
    "incidents.apps.IncidentsConfig",
    "rotation.apps.RotationConfig",
]
# The HTTP simulator (`manage.py simulate`) is a development tool: never in production.
DEVTOOLS_ENABLED = env.bool("DEVTOOLS_ENABLED", default=DEBUG)
if DEVTOOLS_ENABLED:
    INSTALLED_APPS.append("devtools.apps.DevtoolsConfig")

MIDDLEWARE = [
    # First: times every request, the station fast path included (opsportal/metrics/http.py).
    "opsportal.metrics.http.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "audit.middleware.RequestIdMiddleware",
    # Station API calls stop here: none of the browser middleware below applies to them.
    "vouchers.middleware.StationApiMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Staff input with a NUL byte or a lone surrogate: a 400 that says why, never a 500.
    "staff.middleware.StaffInputMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A browser signed out by a sign-out of everyone learns why on the login page.
    "staff.signout.SignedOutMiddleware",
    "staff.middleware.ApiErrorsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a lockout into a 429 page (django-axes).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "opsportal.urls"
# The debug page and error e-mails hide every secret setting, header and variable.
DEFAULT_EXCEPTION_REPORTER_FILTER = "opsportal.debug.SecretsExceptionReporterFilter"
WSGI_APPLICATION = "opsportal.wsgi.application"

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
                "integrations.context_processors.degraded_mode",
            ],
        },
    },
]

# SQLite is only the embedded default of `make run`; tests and production use PostgreSQL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Where connections that hold a session advisory lock go (campaign leases, the leader of a
# probe run): a real session. Default: DATABASE_URL. Behind PgBouncer in transaction mode,
# point it at PostgreSQL itself or a session-mode pool (deploy/README.md).
DATABASE_SESSION = env.db("DATABASE_SESSION_URL") if env.str("DATABASE_SESSION_URL", "") else None
# Persistent connections: a fresh connection per request costs ~3x throughput (performance.md).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# Health checks cost a `SELECT 1` round trip per request; off unless the network drops idle links.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # `make run`: web, worker and the dispatcher share one file. WAL lets readers go on while
    # one writer writes; the busy timeout makes a writer wait its turn instead of failing;
    # IMMEDIATE takes the write lock at BEGIN (no deadlocked upgrades). Writers keep their
    # transactions short (the dispatcher sends outside them: campaigns/dispatch/lanes.py).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    )
else:
    # Django passes prepare_threshold=None to psycopg, which disables even an explicit
    # `execute(..., prepare=True)`: the redeem statement would be parsed and planned on
    # every call (~0.8 ms of server CPU). Django's own cursors bind client-side and are
    # never prepared, so a threshold only enables the statements we prepare on purpose.
    # DATABASE_PREPARED_STATEMENTS=false: for a pooler that cannot keep them (PgBouncer
    # in transaction mode before 1.21); the redeem statement then runs unprepared.
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 1_000_000)
    # Behind a transaction-mode pooler a server-side cursor (a streamed export) outlives
    # the transaction it belongs to: fetch client-side instead.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
        "DATABASE_DISABLE_SERVER_SIDE_CURSORS", default=False
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

# --- Login throttling (django-axes): lock a username from one address after N failures ---
AUTHENTICATION_BACKENDS = [
    "staff.security.RequestBoundAxesBackend",  # first: refuses locked-out logins
    # ModelBackend with the roles' permissions kept in memory (opsportal/permissions.py).
    "opsportal.permissions.CachedPermissionsBackend",
]
# How long a process may keep permissions another process changed, when CACHE_URL is not
# shared (a shared cache makes a change apply on the next request everywhere).
PERMISSIONS_CACHE_SECONDS = env.float("PERMISSIONS_CACHE_SECONDS", default=10.0)
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# Username + address together: an attacker elsewhere cannot lock an admin out at 3 a.m.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # failures are audited (staff/security.py); no start-up banner
AXES_IPWARE_PROXY_COUNT = env.int("AXES_IPWARE_PROXY_COUNT", default=0) or None

# Failed logins for usernames that do not exist: one audit entry per window, with the count.
LOGIN_FAILURE_WINDOW_MINUTES = env.int("LOGIN_FAILURE_WINDOW_MINUTES", default=10)
# An admin-role request nobody approved within this many hours expires (staff/grants.py).
STAFF_ROLE_REQUEST_TTL_HOURS = env.int("STAFF_ROLE_REQUEST_TTL_HOURS", default=24)

# --- Security (production defaults; `check --deploy` passes with DEBUG=false) ---
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Background tasks (django-q2) ---
# Empty Q_BROKER_URL = the Django ORM broker (works on SQLite and PostgreSQL);
# redis://… = Redis. `timeout` must stay below `retry` or a slow task runs twice.
Q_BROKER_URL = env.str("Q_BROKER_URL", default="")
Q_CLUSTER = {
    # Every cluster of one site shares it (it salts the signed task payloads and names the
    # queue); a second site on the same Redis takes another (`make cluster` does).
    "name": env.str("Q_NAME", default="opsportal"),
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=120),
    "retry": env.int("Q_RETRY", default=180),
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 1000,
    "poll": env.float("Q_POLL", default=0.1),
    "sync": env.bool("Q_SYNC", default=False),
    "label": "Task queue",
    # Q_CLUSTER_NAME=<name> runs/enqueues on a queue of that name (django-q2 requires this key);
    # tests use it to keep their clusters apart on a shared broker.
    "ALT_CLUSTERS": {},
}
if Q_BROKER_URL:
    Q_CLUSTER["redis"] = Q_BROKER_URL
else:
    Q_CLUSTER["orm"] = "default"

# locmem by default; CACHE_URL=redis://… or dbcache://table for several processes.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://opsportal")}

# --- Integrations: one block each; `_ENABLED` defaults to "configured". ---
# Supabase Edge Functions (voucher-png, send-whatsapp).
SUPABASE_URL = env.str("SUPABASE_URL", default="")
SUPABASE_FUNCTIONS_JWT = env.str("SUPABASE_FUNCTIONS_JWT", default="")  # Authorization: Bearer
SUPABASE_FUNCTIONS_APIKEY = env.str("SUPABASE_FUNCTIONS_APIKEY", default="")  # apikey header
SUPABASE_FUNCTIONS_ENABLED = env.bool("SUPABASE_FUNCTIONS_ENABLED", default=bool(SUPABASE_URL))

# Supabase Management API.
SUPABASE_MANAGEMENT_URL = env.str("SUPABASE_MANAGEMENT_URL", default="https://api.supabase.com")
SUPABASE_ACCESS_TOKEN = env.str("SUPABASE_ACCESS_TOKEN", default="")
SUPABASE_PROJECT_REF = env.str("SUPABASE_PROJECT_REF", default="")
SUPABASE_MANAGEMENT_ENABLED = env.bool(
    "SUPABASE_MANAGEMENT_ENABLED", default=bool(SUPABASE_ACCESS_TOKEN and SUPABASE_PROJECT_REF)
)

# Vercel.
VERCEL_API_URL = env.str("VERCEL_API_URL", default="https://api.vercel.com")
VERCEL_TOKEN = env.str("VERCEL_TOKEN", default="")
VERCEL_PROJECT = env.str("VERCEL_PROJECT", default="")
VERCEL_TEAM_ID = env.str("VERCEL_TEAM_ID", default="")
VERCEL_ENABLED = env.bool("VERCEL_ENABLED", default=bool(VERCEL_TOKEN and VERCEL_PROJECT))

# PagerDuty (REST + Events v2).
PAGERDUTY_API_URL = env.str("PAGERDUTY_API_URL", default="https://api.pagerduty.com")
PAGERDUTY_EVENTS_URL = env.str("PAGERDUTY_EVENTS_URL", default="https://events.pagerduty.com")
PAGERDUTY_API_KEY = env.str("PAGERDUTY_API_KEY", default="")
PAGERDUTY_ROUTING_KEY = env.str("PAGERDUTY_ROUTING_KEY", default="")
PAGERDUTY_FROM_EMAIL = env.str("PAGERDUTY_FROM_EMAIL", default="")
PAGERDUTY_ENABLED = env.bool(
    "PAGERDUTY_ENABLED", default=bool(PAGERDUTY_ROUTING_KEY or PAGERDUTY_API_KEY)
)

# Slack.
SLACK_API_URL = env.str("SLACK_API_URL", default="https://slack.com/api")
SLACK_BOT_TOKEN = env.str("SLACK_BOT_TOKEN", default="")
SLACK_OPS_CHANNEL = env.str("SLACK_OPS_CHANNEL", default="#ops")
SLACK_ENABLED = env.bool("SLACK_ENABLED", default=bool(SLACK_BOT_TOKEN))

# AWS Secrets Manager (boto3; credentials from the usual AWS environment).
AWS_SECRETS_ENDPOINT_URL = env.str("AWS_SECRETS_ENDPOINT_URL", default="") or None
AWS_REGION = env.str("AWS_REGION", default="eu-west-1")
SECRETS_MANAGER_PROBE_SECRET = env.str(
    "SECRETS_MANAGER_PROBE_SECRET", default="prod/easymo/supabase/service-role"
)
SECRETS_MANAGER_ENABLED = env.bool("SECRETS_MANAGER_ENABLED", default=False)

# Outbound HTTP defaults (every client passes explicit timeouts).
INTEGRATIONS_CONNECT_TIMEOUT = env.float("INTEGRATIONS_CONNECT_TIMEOUT", default=3.0)
INTEGRATIONS_READ_TIMEOUT = env.float("INTEGRATIONS_READ_TIMEOUT", default=5.0)
# Probes: each bounded by this timeout (the status API answers within it + 1 s);
# slower than SLOW_MS is amber "slow". History older than HISTORY_DAYS is pruned.
INTEGRATIONS_PROBE_TIMEOUT = env.float("INTEGRATIONS_PROBE_TIMEOUT", default=5.0)
INTEGRATIONS_PROBE_SLOW_MS = env.int("INTEGRATIONS_PROBE_SLOW_MS", default=2000)
INTEGRATIONS_PROBE_HISTORY_DAYS = env.int("INTEGRATIONS_PROBE_HISTORY_DAYS", default=7)
# A forced run starts this long after the request that planned it arrived, so a burst of
# forced requests (on every host) shares one run (integrations/flight.py).
INTEGRATIONS_PROBE_GATHER_MS = env.int("INTEGRATIONS_PROBE_GATHER_MS", default=250)
# Behind our nginx (deploy/nginx/), X-Request-Start (t=<seconds>) says when a request reached
# the proxy: a forced status request queued behind busy workers still shares the run that
# started after it arrived. Only trust it from a proxy that sets it.
TRUST_X_REQUEST_START = env.bool("TRUST_X_REQUEST_START", default=False)

# --- Station redeem API ---
REDEEM_IDEMPOTENCY_RETENTION_DAYS = env.int("REDEEM_IDEMPOTENCY_RETENTION_DAYS", default=7)
# The redeem attempt log (one row per call) is kept this long, then purged daily.
REDEEM_ATTEMPT_RETENTION_DAYS = env.int("REDEEM_ATTEMPT_RETENTION_DAYS", default=90)
REDEEM_RATE_LIMIT_PER_MINUTE = env.int("REDEEM_RATE_LIMIT_PER_MINUTE", default=600)

# --- Audit (README, "Audit log") ---
# Checkpoints are signed with Ed25519 (audit/signing.py): the private key (PEM or base64 of
# the 32 raw bytes; AUDIT_SIGNING_KEY_FILE is read first) and its id. Verifying needs public
# keys only: AUDIT_VERIFY_KEYS=id=base64,id2=base64 (earlier keys, so rotated keys verify).
# DEBUG without a key: a development key (id "dev"); DEBUG=false without one: audit.E001.
AUDIT_SIGNING_KEY = env.str("AUDIT_SIGNING_KEY", default="")
AUDIT_SIGNING_KEY_ID = env.str("AUDIT_SIGNING_KEY_ID", default="")
AUDIT_VERIFY_KEYS = env.dict("AUDIT_VERIFY_KEYS", default={})
# Every checkpoint is also written here: s3://bucket/prefix (Object Lock) or file:///dir.
AUDIT_ANCHOR_URL = env.str(
    "AUDIT_ANCHOR_URL", default=f"file://{BASE_DIR / '.audit-anchors'}" if DEBUG else ""
)
AUDIT_ANCHOR_ENDPOINT_URL = env.str("AUDIT_ANCHOR_ENDPOINT_URL", default="") or None
# Only for checkpoints signed before Ed25519 (HMAC, unnumbered): verified when set (to the
# key they were signed with, e.g. the old SECRET_KEY), else reported as legacy and skipped.
AUDIT_CHECKPOINT_KEY = env.str("AUDIT_CHECKPOINT_KEY", default="")

# --- Metrics (opsportal/metrics/): who may scrape /metrics ---
# Addresses or networks that may scrape without a token (direct connections only: a request
# relayed by a proxy needs the token). METRICS_TOKEN: `Authorization: Bearer <token>`.
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"] if DEBUG else [])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# LOG_FORMAT=json: one JSON object per line (time, level, logger, message, request_id) for
# a log shipper; text (the default) is the plain message, as `make run` shows it.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be text or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "mask_secrets": {"()": "audit.redaction.MaskSecretsFilter"},
        # Ahead of masking: notes a service-role key's fingerprint for the leak detector.
        "secret_sightings": {"()": "incidents.logwatch.SecretSightingFilter"},
        "request_id": {"()": "opsportal.logs.RequestIdFilter"},
    },
    "formatters": {
        "text": {"format": "%(message)s"},
        "json": {
            "()": "opsportal.logs.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["secret_sightings", "mask_secrets", "request_id"],
            "formatter": LOG_FORMAT,
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # botocore logs whole response bodies at DEBUG: secret values included.
        "botocore": {"level": "WARNING"},
        "boto3": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}

if LOG_FORMAT == "json":
    # django-q2 gives its logger a handler (and text format) of its own unless one is set.
    LOGGING["loggers"]["django-q"] = {"handlers": ["console"], "propagate": False}

# --- Campaign dispatcher (campaigns/dispatch/) ---
# A slice must end well inside Q_CLUSTER["timeout"]; the lease outlives a few renewals.
CAMPAIGN_SLICE_SECONDS = env.float("CAMPAIGN_SLICE_SECONDS", default=60.0)
CAMPAIGN_LEASE_SECONDS = env.float("CAMPAIGN_LEASE_SECONDS", default=30.0)
# A running campaign keeps one standby slice waiting for its lease, on another node when
# there is one (false: the watchdog alone restarts a campaign whose worker died).
CAMPAIGN_STANDBY = env.bool("CAMPAIGN_STANDBY", default=True)
# This process's failure domain (default: the host name); `make cluster` names its two.
OPSPORTAL_NODE = env.str("OPSPORTAL_NODE", default="")
CAMPAIGN_MAX_LANES = env.int("CAMPAIGN_MAX_LANES", default=12)
CAMPAIGN_MAX_ATTEMPTS = env.int("CAMPAIGN_MAX_ATTEMPTS", default=5)
CAMPAIGN_RETRY_BASE_SECONDS = env.float("CAMPAIGN_RETRY_BASE_SECONDS", default=5.0)
CAMPAIGN_BACKOFF_BASE_SECONDS = env.float("CAMPAIGN_BACKOFF_BASE_SECONDS", default=2.0)
CAMPAIGN_BACKOFF_MAX_SECONDS = env.float("CAMPAIGN_BACKOFF_MAX_SECONDS", default=300.0)
CAMPAIGN_INLINE_WAIT_SECONDS = env.float("CAMPAIGN_INLINE_WAIT_SECONDS", default=30.0)
CAMPAIGN_HEARTBEAT_FRESH_SECONDS = env.float("CAMPAIGN_HEARTBEAT_FRESH_SECONDS", default=180.0)
CAMPAIGN_STALL_AMBER_SECONDS = env.float("CAMPAIGN_STALL_AMBER_SECONDS", default=120.0)
CAMPAIGN_STALL_RED_SECONDS = env.float("CAMPAIGN_STALL_RED_SECONDS", default=300.0)
CAMPAIGN_DEFAULT_REGION = env.str("CAMPAIGN_DEFAULT_REGION", default="RW")

# --- Credential rotation (rotation/) ---
# A project's own URL (its Auth Admin API proves which service-role key is accepted).
SUPABASE_PROJECT_URL_TEMPLATE = env.str(
    "SUPABASE_PROJECT_URL_TEMPLATE", default="https://{ref}.supabase.co"
)
# The whole saga runs in one django-q2 task: keep the redeploy wait inside Q_TIMEOUT.
ROTATION_DEPLOY_TIMEOUT_SECONDS = env.float("ROTATION_DEPLOY_TIMEOUT_SECONDS", default=90.0)
ROTATION_DEPLOY_POLL_SECONDS = env.float("ROTATION_DEPLOY_POLL_SECONDS", default=3.0)
# A run whose worker stopped reporting for this long may be resumed by another worker.
ROTATION_STALE_SECONDS = env.int("ROTATION_STALE_SECONDS", default=900)

# --- Incidents (runbook engine) ---
INCIDENT_APPROVAL_TTL_MINUTES = env.int("INCIDENT_APPROVAL_TTL_MINUTES", default=30)
# Who the runbooks notify by e-mail; empty = "not configured" (the step fails and says so).
WHATSAPP_PROVIDER_EMAIL = env.str("WHATSAPP_PROVIDER_EMAIL", default="")
DATAOPS_EMAIL = env.str("DATAOPS_EMAIL", default="")
VENDOR_SUPPORT_EMAIL = env.str("VENDOR_SUPPORT_EMAIL", default="")
SLACK_ENGINEERING_CHANNEL = env.str("SLACK_ENGINEERING_CHANNEL", default="#engineering")
SLACK_DATAOPS_CHANNEL = env.str("SLACK_DATAOPS_CHANNEL", default="#data-ops")
# Links in notifications (e.g. the failed-targets export) are built on this base URL.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
if "EMAIL_URL" in env:
    vars().update(env.email_url("EMAIL_URL"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="opsportal@localhost")
# Send-failure detector: open a WhatsApp incident above this share of failed sends.
WHATSAPP_FAILURE_RATE_THRESHOLD = env.float("WHATSAPP_FAILURE_RATE_THRESHOLD", default=0.2)
WHATSAPP_FAILURE_RATE_MINUTES = env.int("WHATSAPP_FAILURE_RATE_MINUTES", default=10)
REDEEM_IDEMPOTENCY_SPIKE = env.int("REDEEM_IDEMPOTENCY_SPIKE", default=20)
# Gates (incidents/gates/checks.py): "targets update" needs this many sends since the replay
# (or the campaign completing); "EF returns 202" may send a test to this number (empty: it
# waits for the first real send after resume).
INCIDENT_GATE_MIN_TARGETS_SENT = env.int("INCIDENT_GATE_MIN_TARGETS_SENT", default=10)
WHATSAPP_TEST_NUMBER = env.str("WHATSAPP_TEST_NUMBER", default="")
WHATSAPP_TEST_TEMPLATE = env.str("WHATSAPP_TEST_TEMPLATE", default="hello_world")
WHATSAPP_TEST_SEND_EVERY_SECONDS = env.int("WHATSAPP_TEST_SEND_EVERY_SECONDS", default=60)

# --- Paging and detection (incidents/services/paging.py, webhook.py, detectors/) ---
# A detector's incident (and any SEV1/SEV2) pages PagerDuty and posts to Slack; a page that
# fails is retried with backoff (base × 2^attempt, capped) up to MAX_ATTEMPTS, then given up.
INCIDENT_PAGE_MAX_ATTEMPTS = env.int("INCIDENT_PAGE_MAX_ATTEMPTS", default=6)
INCIDENT_PAGE_RETRY_BASE_SECONDS = env.float("INCIDENT_PAGE_RETRY_BASE_SECONDS", default=30.0)
INCIDENT_PAGE_RETRY_MAX_SECONDS = env.float("INCIDENT_PAGE_RETRY_MAX_SECONDS", default=900.0)
# A recurrence within this long after resolution reopens the incident; later, a new one opens.
INCIDENT_DETECTOR_COOLDOWN_MINUTES = env.int("INCIDENT_DETECTOR_COOLDOWN_MINUTES", default=60)
# PagerDuty V3 webhook subscription secrets (comma-separated: old and new while rotating).
PAGERDUTY_WEBHOOK_SECRETS = env.list("PAGERDUTY_WEBHOOK_SECRETS", default=[])
# Refused webhook deliveries: one audit entry per reason and window, the rest counted.
PAGERDUTY_WEBHOOK_REFUSAL_WINDOW_SECONDS = env.int(
    "PAGERDUTY_WEBHOOK_REFUSAL_WINDOW_SECONDS", default=300
)
# Who is on call (GET /oncalls, REST key): these escalation policies (empty = every one).
PAGERDUTY_ESCALATION_POLICY_IDS = env.list("PAGERDUTY_ESCALATION_POLICY_IDS", default=[])
PAGERDUTY_ONCALL_CACHE_SECONDS = env.int("PAGERDUTY_ONCALL_CACHE_SECONDS", default=60)
