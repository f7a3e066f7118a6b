"""Django settings for nestops, read from the environment (see README "Configuration")."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import secrets
import zoneinfo
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from nestops.env import Env
from nestops.private_files import (
    private_directory,
    private_file,
    private_sqlite_files,
    restrict_umask,
)

env = Env()

# Every process loading these settings (web, worker, beat, manage.py) creates private files:
# var/ holds session keys, the secret key and queued task messages.
restrict_umask()
BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = private_directory(Path(env.str("NESTOPS_VAR_DIR", str(BASE_DIR / "var"))))
# Every process counts what it does (cloud calls) in files here that /metrics adds up
# (prometheus_client's multiprocess mode): set before anything imports prometheus_client.
PROMETHEUS_DIR = private_directory(
    Path(env.str("PROMETHEUS_MULTIPROC_DIR", str(VAR_DIR / "prometheus")))
)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(PROMETHEUS_DIR)


def _embedded_secret_key() -> str:
    """A key generated once and kept under var/, so sessions survive restarts of `make run`."""
    path = VAR_DIR / "secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
    private_file(path)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = env.secret("NESTOPS_SECRET_KEY") or _embedded_secret_key()
# Fernet keys for secrets at rest, newest first; derived from SECRET_KEY when unset.
NESTOPS_ENCRYPTION_KEYS = [
    key.strip() for key in (env.secret("NESTOPS_ENCRYPTION_KEYS") or "").split(",") if key.strip()
]
DEBUG = env.bool("NESTOPS_DEBUG", False)
ALLOWED_HOSTS = env.list("NESTOPS_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("NESTOPS_CSRF_TRUSTED_ORIGINS")
if invalid := [o for o in CSRF_TRUSTED_ORIGINS if "://" not in o]:
    raise ImproperlyConfigured(
        f"NESTOPS_CSRF_TRUSTED_ORIGINS={','.join(invalid)!r} is not valid: expected origins "
        "with a scheme, such as https://nestops.example.com."
    )
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("NESTOPS_BEHIND_TLS_PROXY", False) else None
)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("NESTOPS_SECURE_COOKIES", False)
# Reverse proxies in front of nestops that append the client to X-Forwarded-For. With 0 the
# client's address is REMOTE_ADDR; behind one proxy, every client would otherwise share its
# address for sign-in lockouts and API rates.
NESTOPS_PROXY_COUNT = env.int("NESTOPS_PROXY_COUNT", 0, minimum=0, maximum=5)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "nestops",
    "accounts",
    "notifications",
    "images",
    "cloudaccount",
    "instances",
    "operations",
    "hostfiles",
    "metrics",
    "billing",
    "autostop",
    "budgets",
    "webgateway",
    "telemetry",
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
    "accounts.preferences.PreferencesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "nestops.urls"
WSGI_APPLICATION = "nestops.wsgi.application"

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
                "accounts.context_processors.dashboard",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'nestops.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web, worker and beat share one file in the embedded mode: WAL lets readers run while a
    # writer commits, and IMMEDIATE transactions make writers queue instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-nestops.sqlite3")}
    # Older versions left the database (and its WAL) readable by everyone; it holds sessions.
    private_sqlite_files(DATABASES["default"]["NAME"])
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("NESTOPS_DB_CONN_MAX_AGE", 60, minimum=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First: refuses every attempt while the username or the address is locked.
    "accounts.login_throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"
# Failed sign-ins per username (from any address) and per address (for any username) before
# both are refused for the cool-off period (accounts/login_throttle.py).
NESTOPS_LOGIN_FAILURE_LIMIT = env.int("NESTOPS_LOGIN_FAILURE_LIMIT", 5, minimum=1)
NESTOPS_LOGIN_ADDRESS_FAILURE_LIMIT = env.int("NESTOPS_LOGIN_ADDRESS_FAILURE_LIMIT", 20, minimum=1)
NESTOPS_LOGIN_COOLOFF_SECONDS = round(
    3600 * env.float("NESTOPS_LOGIN_COOLOFF_HOURS", 0.25, minimum=0.01, maximum=720)
)

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("NESTOPS_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- Celery ---------------------------------------------------------------------------------
BROKER_DIR = Path(env.str("NESTOPS_BROKER_DIR", str(VAR_DIR / "broker")))
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem"):
    # nestops.broker recreates these when they go missing while a process runs.
    for folder in (
        BROKER_DIR,
        BROKER_DIR / "queue",
        BROKER_DIR / "processed",
        BROKER_DIR / "control",
    ):
        private_directory(folder)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Longer than any countdown we schedule, so Redis does not redeliver a waiting message.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    raise ImproperlyConfigured(
        f"CELERY_BROKER_URL={CELERY_BROKER_URL.split('://')[0]}://… is not valid: expected "
        "redis://host:6379/0 or filesystem:// (the embedded default)."
    )
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
# Two queues, both consumed by every worker in turn: "celery" for what people and policies ask,
# "background" for the system's own follow-up work (operations/queues.py).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (
    Queue("celery", routing_key="celery"),
    Queue("background", routing_key="background"),
)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

# --- The cloud ------------------------------------------------------------------------------
NESTOPS_CLOUD = env.choice("NESTOPS_CLOUD", "sim", ("sim", "aliyun"))
NESTOPS_SIM_PORT = env.int("NESTOPS_SIM_PORT", 9800, minimum=1, maximum=65535)
NESTOPS_SIM_ENDPOINT = env.str("NESTOPS_SIM_ENDPOINT", f"127.0.0.1:{NESTOPS_SIM_PORT}")
if "://" in NESTOPS_SIM_ENDPOINT or "/" in NESTOPS_SIM_ENDPOINT:
    raise ImproperlyConfigured(
        f"NESTOPS_SIM_ENDPOINT={NESTOPS_SIM_ENDPOINT!r} is not valid: expected host:port, "
        "such as 127.0.0.1:9800."
    )
NESTOPS_SIM_ACCESS_KEY_ID = env.str("NESTOPS_SIM_ACCESS_KEY_ID", "nestops-sim")
NESTOPS_SIM_ACCESS_KEY_SECRET = env.secret("NESTOPS_SIM_ACCESS_KEY_SECRET", "nestops-sim-secret")
NESTOPS_CLOUD_CONNECT_TIMEOUT_MS = env.int("NESTOPS_CLOUD_CONNECT_TIMEOUT_MS", 3000, minimum=100)
NESTOPS_CLOUD_READ_TIMEOUT_MS = env.int("NESTOPS_CLOUD_READ_TIMEOUT_MS", 10000, minimum=100)
# An explicit proxy for the Alibaba Cloud endpoints; proxy variables in the environment are
# never used for cloud calls (the SDK would send even 127.0.0.1 through them).
NESTOPS_CLOUD_PROXY = env.str("NESTOPS_CLOUD_PROXY")

# --- Email and notifications ------------------------------------------------------------------
# Without an SMTP host, mail is written to files under var/mail (the embedded mode).
EMAIL_HOST = env.str("NESTOPS_SMTP_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env.int("NESTOPS_SMTP_PORT", 587, minimum=1, maximum=65535)
    EMAIL_HOST_USER = env.str("NESTOPS_SMTP_USER", "")
    EMAIL_HOST_PASSWORD = env.secret("NESTOPS_SMTP_PASSWORD", "")
    EMAIL_USE_TLS = env.bool("NESTOPS_SMTP_STARTTLS", True)
    EMAIL_USE_SSL = env.bool("NESTOPS_SMTP_SSL", False)
    EMAIL_TIMEOUT = 15
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env.str("NESTOPS_EMAIL_FROM", "nestops@localhost")
NESTOPS_WEBHOOK_PROXY = env.str("NESTOPS_WEBHOOK_PROXY")
# Webhooks to loopback and private addresses (an in-house chat server); metadata and
# link-local addresses are always refused.
NESTOPS_WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("NESTOPS_WEBHOOK_ALLOW_PRIVATE_URLS", False)

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env.choice(
    "NESTOPS_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # urllib3 logs each request line at DEBUG, and cloud calls carry their parameters
        # (host passwords, scripts with credentials) in the query string.
        "urllib3": {"level": "WARNING"},
    },
}

# --- Service instances and operations ---------------------------------------------------------
# Regions offered to users; empty means every region the cloud lists.
NESTOPS_REGIONS = env.list("NESTOPS_REGIONS")
# cloudsim's ready-made WebUI images: what deploys use when nothing was built or configured.
NESTOPS_SIM_IMAGES = (
    {"sd-webui": {"*": "m-sim-sd-webui"}, "sd-webui-forge": {"*": "m-sim-sd-forge"}}
    if NESTOPS_CLOUD == "sim"
    else {}
)
# An override of the images nestops built (images app):
# {"sd-webui": {"cn-hangzhou": "m-...", "*": "m-..."}, "sd-webui-forge": {...}}
NESTOPS_IMAGES = env.json("NESTOPS_IMAGES", {})
if not isinstance(NESTOPS_IMAGES, dict) or not all(
    isinstance(v, dict) and all(isinstance(i, str) for i in v.values())
    for v in NESTOPS_IMAGES.values()
):
    raise ImproperlyConfigured(
        'NESTOPS_IMAGES is not valid: expected {"sd-webui": {"cn-hangzhou": "m-...", '
        '"*": "m-..."}, "sd-webui-forge": {...}}.'
    )
# Building WebUI images (images app, docs/images.md): the temporary host's type, how long the
# WebUI may take to answer after the bootstrap, and where the bootstrap gets the WebUI (a
# pinned tag or commit), its Python packages and the Chinese localization.
NESTOPS_IMAGE_BUILD_INSTANCE_TYPE = env.str(
    "NESTOPS_IMAGE_BUILD_INSTANCE_TYPE", "ecs.gn6i-c4g1.xlarge"
)
NESTOPS_IMAGE_BUILD_WAIT_SECONDS = env.int(
    "NESTOPS_IMAGE_BUILD_WAIT_SECONDS", 1800, minimum=10, maximum=7200
)
NESTOPS_IMAGE_BUILD_DEADLINE_MINUTES = env.int(
    "NESTOPS_IMAGE_BUILD_DEADLINE_MINUTES", 240, minimum=5, maximum=1440
)
NESTOPS_BOOTSTRAP_WEBUI_REPO = env.str(
    "NESTOPS_BOOTSTRAP_WEBUI_REPO", "https://github.com/AUTOMATIC1111/stable-diffusion-webui.git"
)
NESTOPS_BOOTSTRAP_WEBUI_REF = env.str("NESTOPS_BOOTSTRAP_WEBUI_REF", "v1.10.1")
NESTOPS_BOOTSTRAP_FORGE_REPO = env.str(
    "NESTOPS_BOOTSTRAP_FORGE_REPO",
    "https://github.com/lllyasviel/stable-diffusion-webui-forge.git",
)
# Forge publishes no release tags, so it is pinned to a commit of its main branch; set another
# commit (or a branch, which is not a pinned version) to override it.
NESTOPS_BOOTSTRAP_FORGE_REF = env.str(
    "NESTOPS_BOOTSTRAP_FORGE_REF", "2225b18fe465f108ce0c359d626668487283fd94"
)
NESTOPS_BOOTSTRAP_LOCALIZATION_REPO = env.str(
    "NESTOPS_BOOTSTRAP_LOCALIZATION_REPO",
    "https://github.com/dtlnor/stable-diffusion-webui-localization-zh_CN.git",
)
NESTOPS_BOOTSTRAP_PIP_INDEX_URL = env.str(
    "NESTOPS_BOOTSTRAP_PIP_INDEX_URL", "https://mirrors.aliyun.com/pypi/simple/"
)
# A wheel folder on the host (an air-gapped build, and the tests): pip then uses no index.
NESTOPS_BOOTSTRAP_PIP_FIND_LINKS = env.str("NESTOPS_BOOTSTRAP_PIP_FIND_LINKS", "")
# Before each deploy, check (once per ten minutes and region) that the credentials may call what
# a deploy needs, and refuse with the RAM policies to grant (cloudaccount app).
NESTOPS_DEPLOY_CHECKS_ACCOUNT = env.bool("NESTOPS_DEPLOY_CHECKS_ACCOUNT", True)
# The account check warns when the available balance does not cover this many hours of the
# cheapest GPU host (Alibaba Cloud stops pay-as-you-go resources of overdue accounts); 0: never.
NESTOPS_BALANCE_WARNING_HOURS = env.int("NESTOPS_BALANCE_WARNING_HOURS", 24, minimum=0)
NESTOPS_WEBUI_PORT = env.int("NESTOPS_WEBUI_PORT", 7860, minimum=1, maximum=65535)
# Who may reach the WebUI port when public access is off (the security group's sources).
NESTOPS_WEBUI_ALLOWED_CIDRS = env.list(
    "NESTOPS_WEBUI_ALLOWED_CIDRS", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
)
for _cidr in NESTOPS_WEBUI_ALLOWED_CIDRS:
    try:
        ipaddress.ip_network(_cidr, strict=True)
    except ValueError:
        raise ImproperlyConfigured(
            f"NESTOPS_WEBUI_ALLOWED_CIDRS contains {_cidr!r}: expected CIDR blocks such as "
            "203.0.113.0/24."
        ) from None
NESTOPS_WEBUI_URL_TEMPLATE = env.str(
    "NESTOPS_WEBUI_URL_TEMPLATE",
    "http://{sim_endpoint}/hosts/{instance_id}"
    if NESTOPS_CLOUD == "sim"
    else "http://{public_ip}:{port}",
)
# Deploys make a self-signed certificate on each host and start its WebUI with TLS; the gateway
# pins that certificate (docs/gateway.md). Off: plain HTTP, for a gateway in the hosts' VPC
# (NESTOPS_WEBUI_URL_TEMPLATE=http://{private_ip}:{port}).
NESTOPS_WEBUI_TLS = env.bool("NESTOPS_WEBUI_TLS", NESTOPS_CLOUD != "sim")
# Where a host that serves TLS answers; {port} is the port the host reported.
NESTOPS_WEBUI_TLS_URL_TEMPLATE = env.str(
    "NESTOPS_WEBUI_TLS_URL_TEMPLATE",
    "https://{sim_host}:{port}" if NESTOPS_CLOUD == "sim" else "https://{public_ip}:{port}",
)
# --- WebUI gateway (docs/gateway.md) ----------------------------------------------------------
# Each instance's WebUI is served on its own origin: {scheme}://{instance_id}.{domain}[:port].
NESTOPS_WEBUI_DOMAIN = env.str("NESTOPS_WEBUI_DOMAIN", "localhost").lower().strip(".")
if not re.fullmatch(r"[a-z0-9]([a-z0-9.-]{0,200}[a-z0-9])?", NESTOPS_WEBUI_DOMAIN):
    raise ImproperlyConfigured(
        f"NESTOPS_WEBUI_DOMAIN={NESTOPS_WEBUI_DOMAIN!r} is not valid: expected a domain such as "
        "webui.example.com."
    )
NESTOPS_GATEWAY_PORT = env.int("NESTOPS_GATEWAY_PORT", 8001, minimum=1, maximum=65535)
_webui_local = NESTOPS_WEBUI_DOMAIN == "localhost"
NESTOPS_WEBUI_SCHEME = env.choice(
    "NESTOPS_WEBUI_SCHEME", "http" if _webui_local else "https", ("http", "https")
)
# The port in WebUI URLs (0: none, as behind a TLS proxy on 443).
NESTOPS_WEBUI_PUBLIC_PORT = env.int(
    "NESTOPS_WEBUI_PUBLIC_PORT", NESTOPS_GATEWAY_PORT if _webui_local else 0, minimum=0
)
# Where the gateway asks Django whether a request may pass (the same endpoint nginx uses).
NESTOPS_GATEWAY_AUTH_URL = env.str(
    "NESTOPS_GATEWAY_AUTH_URL", f"http://127.0.0.1:{env.int('NESTOPS_PORT', 8000)}/gateway/"
)
# Shared by Django and the gateway (or nginx): the auth endpoint hands out host credentials.
NESTOPS_GATEWAY_SECRET = (
    env.secret("NESTOPS_GATEWAY_SECRET")
    or hashlib.sha256(f"nestops-gateway:{SECRET_KEY}".encode()).hexdigest()
)
# How long the gateway may reuse a "yes" for a browser session (never for API tokens).
NESTOPS_GATEWAY_AUTH_CACHE_SECONDS = env.int(
    "NESTOPS_GATEWAY_AUTH_CACHE_SECONDS", 10, minimum=0, maximum=30
)
NESTOPS_GATEWAY_SESSION_HOURS = env.float(
    "NESTOPS_GATEWAY_SESSION_HOURS", 12.0, minimum=0.01, maximum=720
)
NESTOPS_GATEWAY_HANDOFF_SECONDS = env.int(
    "NESTOPS_GATEWAY_HANDOFF_SECONDS", 60, minimum=5, maximum=600
)
# Requests per minute per API token through the gateway (0: no limit).
NESTOPS_GATEWAY_TOKEN_RATE_PER_MINUTE = env.int(
    "NESTOPS_GATEWAY_TOKEN_RATE_PER_MINUTE", 120, minimum=0
)
# The addresses the gateway reaches hosts from: the WebUI port admits only these when public
# access is off (empty: NESTOPS_WEBUI_ALLOWED_CIDRS).
NESTOPS_GATEWAY_EGRESS_CIDRS = env.list("NESTOPS_GATEWAY_EGRESS_CIDRS")
for _cidr in NESTOPS_GATEWAY_EGRESS_CIDRS:
    try:
        ipaddress.ip_network(_cidr, strict=True)
    except ValueError:
        raise ImproperlyConfigured(
            f"NESTOPS_GATEWAY_EGRESS_CIDRS contains {_cidr!r}: expected CIDR blocks such as "
            "203.0.113.10/32."
        ) from None
# Plain HTTP from the gateway to a host's public address carries the WebUI's credentials in
# clear text across the internet: refused unless this is set (see docs/gateway.md).
NESTOPS_GATEWAY_ALLOW_CLEARTEXT_HOPS = env.bool("NESTOPS_GATEWAY_ALLOW_CLEARTEXT_HOPS", False)
NESTOPS_GATEWAY_MAX_UPLOAD_BYTES = env.size("NESTOPS_GATEWAY_MAX_UPLOAD_BYTES", 1024**3)
NESTOPS_GATEWAY_READ_TIMEOUT_SECONDS = env.int(
    "NESTOPS_GATEWAY_READ_TIMEOUT_SECONDS", 3600, minimum=10
)
NESTOPS_KEEP_FAILED_DEPLOYS = env.bool("NESTOPS_KEEP_FAILED_DEPLOYS", False)
NESTOPS_START_NO_STOCK_WINDOW_SECONDS = env.int(
    "NESTOPS_START_NO_STOCK_WINDOW_SECONDS", 1800, minimum=0
)
NESTOPS_POLL_SECONDS = env.float("NESTOPS_POLL_SECONDS", 3.0, minimum=0.05, maximum=300)
NESTOPS_RETRY_BASE_SECONDS = env.float("NESTOPS_RETRY_BASE_SECONDS", 2.0, minimum=0.01)
NESTOPS_RETRY_MAX_SECONDS = env.float("NESTOPS_RETRY_MAX_SECONDS", 120.0, minimum=0.1)
NESTOPS_LEASE_SECONDS = env.int("NESTOPS_LEASE_SECONDS", 120, minimum=5)
NESTOPS_WEBUI_READY_TIMEOUT_SECONDS = env.int(
    "NESTOPS_WEBUI_READY_TIMEOUT_SECONDS", 1800, minimum=10
)
# Minutes each kind of operation may take before it fails (JSON, merged over the defaults).
NESTOPS_OPERATION_DEADLINES = {
    "deploy": 60,
    "start": 45,
    "stop": 20,
    "restart": 30,
    "resize": 20,
    "delete": 30,
    "download_model": 360,
    "delete_model": 10,
    "set_preview": 10,
    "install_extension": 30,
    "update_extension": 30,
    "remove_extension": 15,
    "refresh_inventory": 15,
    **env.json("NESTOPS_OPERATION_DEADLINES", {}),
}
# --- Metrics, idle auto-stop and schedules ------------------------------------------------------
# CloudMonitor points: how far back a first collection (or one after an outage) reads, and how
# long 1-minute points and hourly aggregates are kept.
NESTOPS_METRICS_BACKFILL_HOURS = env.int("NESTOPS_METRICS_BACKFILL_HOURS", 6, minimum=1, maximum=72)
# DescribeMetricList calls in flight at once (CloudMonitor allows 50 calls/s per account).
NESTOPS_METRICS_CONCURRENCY = env.int("NESTOPS_METRICS_CONCURRENCY", 4, minimum=1, maximum=16)
NESTOPS_METRICS_RETENTION_DAYS = env.int("NESTOPS_METRICS_RETENTION_DAYS", 7, minimum=1)
NESTOPS_METRICS_HOURLY_RETENTION_DAYS = env.int(
    "NESTOPS_METRICS_HOURLY_RETENTION_DAYS", 90, minimum=1
)
# Defaults of an instance's idle policy (on for pay-as-you-go hosts, off for subscriptions).
NESTOPS_IDLE_MINUTES = env.int("NESTOPS_IDLE_MINUTES", 30, minimum=5, maximum=1440)
NESTOPS_IDLE_MINUTES_MIN = env.int("NESTOPS_IDLE_MINUTES_MIN", 10, minimum=5, maximum=1440)
NESTOPS_IDLE_MINUTES_MAX = env.int("NESTOPS_IDLE_MINUTES_MAX", 1440, minimum=5, maximum=10080)
if not NESTOPS_IDLE_MINUTES_MIN <= NESTOPS_IDLE_MINUTES <= NESTOPS_IDLE_MINUTES_MAX:
    raise ImproperlyConfigured(
        f"NESTOPS_IDLE_MINUTES={NESTOPS_IDLE_MINUTES} is not valid: expected a number between "
        f"NESTOPS_IDLE_MINUTES_MIN ({NESTOPS_IDLE_MINUTES_MIN}) and NESTOPS_IDLE_MINUTES_MAX "
        f"({NESTOPS_IDLE_MINUTES_MAX})."
    )
NESTOPS_IDLE_GPU_THRESHOLD = env.float("NESTOPS_IDLE_GPU_THRESHOLD", 5.0, minimum=0.5, maximum=95)
NESTOPS_IDLE_WARNING_MINUTES = env.int("NESTOPS_IDLE_WARNING_MINUTES", 5, minimum=0, maximum=120)
NESTOPS_IDLE_STOP_MODE = env.choice(
    "NESTOPS_IDLE_STOP_MODE", "StopCharging", ("StopCharging", "KeepCharging")
)
# CloudMonitor publishes a minute a little late; a host whose newest GPU point is older than
# this has "no GPU metrics", which counts as activity (and, past the idle window, as blind).
NESTOPS_IDLE_METRICS_STALE_MINUTES = env.int(
    "NESTOPS_IDLE_METRICS_STALE_MINUTES", 5, minimum=2, maximum=60
)
# How evaluate_idle asks WebUIs what they are doing: at most this many at once, each answer
# within the timeout, all of them within the budget (hosts left unasked are not stopped).
NESTOPS_IDLE_WEBUI_CONCURRENCY = env.int("NESTOPS_IDLE_WEBUI_CONCURRENCY", 16, minimum=1)
NESTOPS_IDLE_WEBUI_TIMEOUT_SECONDS = env.float(
    "NESTOPS_IDLE_WEBUI_TIMEOUT_SECONDS", 3.0, minimum=0.2, maximum=30
)
NESTOPS_IDLE_WEBUI_BUDGET_SECONDS = env.float(
    "NESTOPS_IDLE_WEBUI_BUDGET_SECONDS", 20.0, minimum=1, maximum=50
)
NESTOPS_SNOOZE_MAX_HOURS = env.int("NESTOPS_SNOOZE_MAX_HOURS", 72, minimum=1, maximum=720)
# A schedule boundary missed (beat down) is still acted on this long after it passed.
NESTOPS_SCHEDULE_GRACE_MINUTES = env.int(
    "NESTOPS_SCHEDULE_GRACE_MINUTES", 60, minimum=1, maximum=1440
)

# --- Operators' telemetry: /metrics in Prometheus' format (docs/telemetry.md) ------------------
# A scraper is let in with this bearer token, or from these addresses (CIDR blocks).
NESTOPS_METRICS_TOKEN = env.secret("NESTOPS_METRICS_TOKEN")
NESTOPS_METRICS_ALLOWED_ADDRESSES = env.list(
    "NESTOPS_METRICS_ALLOWED_ADDRESSES", ["127.0.0.1/32", "::1/128"]
)
for _cidr in NESTOPS_METRICS_ALLOWED_ADDRESSES:
    try:
        ipaddress.ip_network(_cidr, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"NESTOPS_METRICS_ALLOWED_ADDRESSES contains {_cidr!r}: expected addresses or CIDR "
            "blocks such as 10.0.0.5 or 10.0.0.0/24."
        ) from None

# --- Models and extensions on hosts (docs/models-and-extensions.md) ---------------------------
# File operations (downloads, extension installs, ...) that may run at once on one host.
NESTOPS_HOST_FILE_OPERATIONS_PER_HOST = env.int(
    "NESTOPS_HOST_FILE_OPERATIONS_PER_HOST", 3, minimum=1, maximum=20
)
# Git hosts extensions may be installed from; a URL on another host is refused.
NESTOPS_EXTENSION_HOSTS = env.host_names("NESTOPS_EXTENSION_HOSTS", ["github.com"])
# A prefix put before GitHub URLs on the host (for hosts in mainland China), e.g.
# https://ghproxy.example/ makes https://ghproxy.example/https://github.com/owner/repo.git.
NESTOPS_GITHUB_MIRROR = env.url_prefix("NESTOPS_GITHUB_MIRROR")
# Where Hugging Face files are downloaded from (a mirror such as https://hf-mirror.com for hosts
# in mainland China); empty: https://huggingface.co. Teams may set their own. The team's Hugging
# Face token goes to this endpoint too: the operator chose it (docs/models-and-extensions.md).
NESTOPS_HUGGINGFACE_ENDPOINT = env.url_base("NESTOPS_HUGGINGFACE_ENDPOINT")
# Parallel connections (byte ranges) per download of a large file; teams may set fewer.
NESTOPS_DOWNLOAD_CONNECTIONS = env.int("NESTOPS_DOWNLOAD_CONNECTIONS", 16, minimum=1, maximum=16)
# A host that comes up running (deploy, start, restart, resize) has its files read at once.
NESTOPS_READ_FILES_WHEN_RUNNING = env.bool("NESTOPS_READ_FILES_WHEN_RUNNING", True)
NESTOPS_DOWNLOAD_MAX_BYTES = env.size("NESTOPS_DOWNLOAD_MAX_BYTES", 50 * 1024**3)
NESTOPS_MODEL_EXTENSIONS = [
    extension.lower()
    for extension in env.list(
        "NESTOPS_MODEL_EXTENSIONS",
        [".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".yaml", ".png", ".jpg", ".jpeg", ".webp"],
    )
]
if invalid := [e for e in NESTOPS_MODEL_EXTENSIONS if not re.fullmatch(r"\.[a-z0-9]{1,12}", e)]:
    raise ImproperlyConfigured(
        f"NESTOPS_MODEL_EXTENSIONS contains {invalid[0]!r}: expected file extensions such as "
        ".safetensors,.ckpt."
    )
# Downloads from loopback and private addresses reach the host's own network; off by default.
# Link-local addresses and the metadata service (100.100.100.200) are always refused.
NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS = env.bool("NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS", False)
NESTOPS_CATALOG_TTL_SECONDS = env.int("NESTOPS_CATALOG_TTL_SECONDS", 3600, minimum=0)
NESTOPS_STOCK_TTL_SECONDS = env.int("NESTOPS_STOCK_TTL_SECONDS", 60, minimum=0)

# --- Billing --------------------------------------------------------------------------------
# How long a DescribePrice answer counts as current. Older quotes are still used (the ledger
# never charges zero) but the interval is marked rate_estimated and the API says stale.
NESTOPS_PRICE_TTL_SECONDS = env.int("NESTOPS_PRICE_TTL_SECONDS", 3600, minimum=60)
# Days and months of cost reports and budgets. Alibaba Cloud's bills for the China site run on
# China time (Asia/Shanghai); the default follows NESTOPS_TIME_ZONE.
NESTOPS_BILLING_TIME_ZONE = env.str("NESTOPS_BILLING_TIME_ZONE", TIME_ZONE)
try:
    zoneinfo.ZoneInfo(NESTOPS_BILLING_TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(
        f"NESTOPS_BILLING_TIME_ZONE={NESTOPS_BILLING_TIME_ZONE!r} is not valid: expected an IANA "
        "time zone such as Asia/Shanghai or UTC."
    ) from None
# Whether the PayByBandwidth bandwidth of a host stopped with StopCharging is still counted.
# Alibaba Cloud's economical mode releases the system-assigned public IP and stops billing its
# bandwidth; nestops counts it by default (the conservative reading: a ledger that never shows a
# saving that may not exist). See docs/billing.md.
NESTOPS_BILL_BANDWIDTH_WHILE_STOPPED = env.bool("NESTOPS_BILL_BANDWIDTH_WHILE_STOPPED", True)
# The currency a new budget is set in when none is given (the prices' currency: CNY on the
# China site and in cloudsim, USD on the international site).
NESTOPS_BILLING_CURRENCY = env.str("NESTOPS_BILLING_CURRENCY", "CNY").upper()
if len(NESTOPS_BILLING_CURRENCY) != 3 or not NESTOPS_BILLING_CURRENCY.isalpha():
    raise ImproperlyConfigured(
        f"NESTOPS_BILLING_CURRENCY={NESTOPS_BILLING_CURRENCY!r} is not valid: expected a "
        "three-letter currency code such as CNY or USD."
    )

# Shared by the processes: login failure counts and API throttles must be seen by every web
# worker. Redis when NESTOPS_CACHE_URL is set (needed when processes run on more than one
# machine; nestops.checks warns when the broker is Redis and it is not); otherwise files under
# var/cache, shared by the processes of this machine. Many entries before culling: filling the
# cache must not evict the failure counts.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
        if (_cache_url := env.str("NESTOPS_CACHE_URL"))
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    )
}

# --- REST API -------------------------------------------------------------------------------
# Requests per period: anonymous ones per address, authenticated ones per user (all their
# tokens and sessions together) and per token (accounts/api/throttles.py).
NESTOPS_API_THROTTLE_RATES = {
    "anon": env.rate("NESTOPS_API_RATE_ANON", "60/min"),
    "user": env.rate("NESTOPS_API_RATE_USER", "1200/min"),
    "token": env.rate("NESTOPS_API_RATE_TOKEN", "600/min"),
}
# A budget's stop is asked this many seconds of spending before the limit: about what a stop
# takes, so that the hosts are stopped when the limit is reached, not well after it.
NESTOPS_BUDGET_STOP_LEAD_SECONDS = env.int(
    "NESTOPS_BUDGET_STOP_LEAD_SECONDS", 60, minimum=0, maximum=3600
)
# A JSON body larger or nested deeper than this is refused with a 400 before it is decoded.
NESTOPS_API_MAX_BODY_BYTES = env.size("NESTOPS_API_MAX_BODY_BYTES", 1024 * 1024, minimum=1024)
NESTOPS_API_MAX_JSON_DEPTH = env.int("NESTOPS_API_MAX_JSON_DEPTH", 32, minimum=4, maximum=512)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "nestops.api.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "nestops.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "nestops.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.api.throttles.AddressThrottle",
        "accounts.api.throttles.UserThrottle",
        "accounts.api.throttles.TokenThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": NESTOPS_API_THROTTLE_RATES,
    # X-Forwarded-For is whatever the client sends, except the entries our own proxies added.
    "NUM_PROXIES": NESTOPS_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "nestops.schema.add_error_responses",
    ],
    "TITLE": "nestops API",
    "DESCRIPTION": "Service instances, operations and costs of Stable Diffusion WebUI hosts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "InstanceStatusEnum": "instances.models.Status",
        "OperationStatusEnum": "operations.models.OperationStatus",
        "OperationKindEnum": "operations.models.Kind",
        "ModelKindEnum": "hostfiles.models.ModelKind",
        "ChannelKindEnum": "notifications.models.ChannelKind",
        "StopModeEnum": "instances.models.StopMode",
        "WebUILanguageEnum": "instances.models.WebUILanguage",
        "ImageTemplateEnum": "images.models.Template",
        "ImageBuildStatusEnum": "images.models.BuildStatus",
        "DownloadSourceEnum": "hostfiles.models.DownloadSource",
        "RequestSourceEnum": "accounts.requester.Source",
        "DownloadSettingOriginEnum": "hostfiles.api.serializers.SETTING_ORIGINS",
    },
}
