"""Settings for the Guelaguetza Connect backend.

Everything comes from the environment (12-factor); the defaults work on a developer
machine where PostgreSQL and Redis listen on their standard local ports. Production
differs only by environment variables (see .env.example and the README).
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")
# The secrets `make run` generates once (scripts/ensure_secrets.py). Read after .env and
# never over the environment: a value set there wins.
SECRETS_FILE = Path(env("DJANGO_SECRETS_FILE", default=str(BASE_DIR / "var" / "secrets.env")))
if SECRETS_FILE.is_file():
    environ.Env.read_env(SECRETS_FILE)

# --- Core ----------------------------------------------------------------------------
# No default: a secret written in the repository would sign anyone's tokens (it also
# signs JWTs unless JWT_SECRET is set). `make run` generates one; see the README.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
MIN_SECRET_LENGTH = 32


def require_secret(name: str, value: str) -> str:
    """Refuse to start on a missing, short or placeholder secret (HS256 keys shorter
    than the hash are guessable offline from any one token)."""
    if len(value) < MIN_SECRET_LENGTH or "change-me" in value.lower():
        raise ImproperlyConfigured(
            f"{name} must be set to a random value of at least {MIN_SECRET_LENGTH} "
            "characters: `make run` generates one into var/secrets.env "
            "(python3 scripts/ensure_secrets.py var/secrets.env DJANGO_SECRET_KEY JWT_SECRET)"
        )
    return value


require_secret("DJANGO_SECRET_KEY", SECRET_KEY)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["*"])
APP_VERSION = "1.0.0"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "corsheaders",
    "django_prometheus",
    "guelaguetza",
    "accounts",
    "gamification",
    "events",
    "experiences",
]

# API requests run a lean stack: request metrics (outermost, so its latency covers the
# rest), CORS, security headers, the JSON error handler. What only the admin (and its
# static files) needs runs only there: AdminOnlyMiddleware runs ADMIN_MIDDLEWARE for
# ADMIN_MIDDLEWARE_PATHS (guelaguetza/middleware.py).
MIDDLEWARE = [
    "guelaguetza.observability.middleware.RequestMetricsMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Cached GETs answered from Redis before URL resolution (every doubt falls through).
    "guelaguetza.api.cached.CachedReadMiddleware",
    # Which database the request's reads use (primary or a replica): db_routing.
    "guelaguetza.db_routing.ReplicaRoutingMiddleware",
    "django.middleware.common.CommonMiddleware",
    "guelaguetza.middleware.AdminOnlyMiddleware",
    "guelaguetza.middleware.ApiExceptionMiddleware",
]
ADMIN_MIDDLEWARE_PATHS = ["/admin/", "/static/"]  # STATIC_URL below
ADMIN_MIDDLEWARE = [
    # Serves the admin's static files (collected by `make run`).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# The admin's checks look for these three in MIDDLEWARE; they are in ADMIN_MIDDLEWARE,
# which runs for every admin request (tests/test_admin_stack.py).
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410"]

ROOT_URLCONF = "guelaguetza.urls"
WSGI_APPLICATION = "guelaguetza.wsgi.application"
# The front end calls routes without trailing slashes; a redirect would break POST/DELETE.
APPEND_SLASH = False

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

# --- Database --------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL",
        default="postgres://postgres@127.0.0.1:5432/guelaguetza",
        engine="django_prometheus.db.backends.postgresql",
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
# A SELECT 1 before a reused connection's first query in each request (a restarted
# PostgreSQL then costs no failed request); counted in django_db_execute_total. API views
# skip it: their lost-connection retry reconnects instead (guelaguetza.api.dbretry).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DB_CONN_HEALTH_CHECKS", default=True)
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
    "DB_CONNECT_TIMEOUT", default=3
)
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default=None)}
# Read replicas (guelaguetza.db_routing; README.md#read-replicas): streaming replicas of
# the primary, as comma-separated URLs; they become the aliases replica_0, replica_1...
# Writes, bookings and cache fills always use "default"; uncached GETs may use a replica.
DATABASE_REPLICA_URLS = [
    url.strip() for url in env.list("DATABASE_REPLICA_URLS", default=[]) if url.strip()
]
for _index, _url in enumerate(DATABASE_REPLICA_URLS):
    _replica = env.db_url_config(_url, engine="django_prometheus.db.backends.postgresql")
    _replica["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    _replica["CONN_HEALTH_CHECKS"] = DATABASES["default"]["CONN_HEALTH_CHECKS"]
    # Short: a replica that does not answer costs its readers this once, then the
    # router skips it for DATABASE_REPLICA_RETRY_SECONDS and reads the primary.
    _replica.setdefault("OPTIONS", {})["connect_timeout"] = env.int(
        "DATABASE_REPLICA_CONNECT_TIMEOUT", default=1
    )
    # Tests read the test database through the replica alias (no second test database).
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica_{_index}"] = _replica
DATABASE_ROUTERS = ["guelaguetza.db_routing.ReplicaRouter"]
# Read-your-writes: a caller who wrote reads the primary for this long. It must exceed
# the replicas' replay lag; DATABASE_REPLICA_MAX_LAG_SECONDS (same default) enforces it
# by skipping a replica that lags more, checked every DATABASE_REPLICA_LAG_CHECK_SECONDS.
DATABASE_REPLICA_STICKY_SECONDS = env.float("DATABASE_REPLICA_STICKY_SECONDS", default=5.0)
DATABASE_REPLICA_MAX_LAG_SECONDS = env.float(
    "DATABASE_REPLICA_MAX_LAG_SECONDS", default=DATABASE_REPLICA_STICKY_SECONDS
)
DATABASE_REPLICA_LAG_CHECK_SECONDS = env.float("DATABASE_REPLICA_LAG_CHECK_SECONDS", default=1.0)
DATABASE_REPLICA_RETRY_SECONDS = env.float("DATABASE_REPLICA_RETRY_SECONDS", default=10.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis and the cache layer (guelaguetza.cache) -------------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
_REDIS_SCHEMES = ("redis", "rediss", "unix", "redis+sentinel", "rediss+sentinel", "redis+cluster")
if REDIS_URL.partition("://")[0].lower() not in (*_REDIS_SCHEMES, "rediss+cluster"):
    # Fail at start, not as a cache error on every request (docs/cache.md, "Redis topologies").
    raise ImproperlyConfigured(
        f"REDIS_URL must start with one of {_REDIS_SCHEMES} or rediss+cluster"
    )
# REDIS_URL schemes (docs/cache.md, "Redis topologies"): redis://, rediss:// (TLS),
# redis+sentinel://host:port[,host:port]/<service>/<db>, redis+cluster://host:port[,...]
# and rediss+cluster://. TLS verifies the server against REDIS_TLS_CA_FILE (else the
# system's CAs); a client certificate is REDIS_TLS_CERT_FILE + REDIS_TLS_KEY_FILE.
REDIS_TLS_CA_FILE = env("REDIS_TLS_CA_FILE", default="")
REDIS_TLS_CERT_FILE = env("REDIS_TLS_CERT_FILE", default="")
REDIS_TLS_KEY_FILE = env("REDIS_TLS_KEY_FILE", default="")
CACHE_ENABLED = env.bool("CACHE_ENABLED", default=True)
CACHE_KEY_PREFIX = env("CACHE_KEY_PREFIX", default="guelaguetza:")
# Short timeouts: a hung Redis must cost milliseconds, not redis-py's 5 s default.
CACHE_SOCKET_TIMEOUT = env.float("CACHE_SOCKET_TIMEOUT", default=0.2)
CACHE_CONNECT_TIMEOUT = env.float("CACHE_CONNECT_TIMEOUT", default=0.2)
CACHE_BREAKER_FAILURES = env.int("CACHE_BREAKER_FAILURES", default=3)
CACHE_BREAKER_RESET_SECONDS = env.float("CACHE_BREAKER_RESET_SECONDS", default=5.0)
CACHE_LOCK_TTL_MS = env.int("CACHE_LOCK_TTL_MS", default=3000)
CACHE_LOCK_WAIT_MS = env.int("CACHE_LOCK_WAIT_MS", default=1000)
CACHE_TTL_JITTER = env.float("CACHE_TTL_JITTER", default=0.1)  # +-10 %
CACHE_GENERATION_TTL = env.int("CACHE_GENERATION_TTL", default=86400)  # > every TTL
# Invalidations that failed (Redis down) are kept and retried by reads at most this often.
CACHE_REPLAY_INTERVAL_SECONDS = env.float("CACHE_REPLAY_INTERVAL_SECONDS", default=1.0)
# Leaderboard pages carry the generations of the position bands they cover (registry):
# bands of CACHE_LEADERBOARD_BAND positions down to CACHE_LEADERBOARD_TOP, then one band.
# One band per page of the default limit (20): a move clears the pages it shows on and
# no neighbour (bench/load.py: 100-position bands cost the hot first pages ~5x the misses).
CACHE_LEADERBOARD_BAND = env.int("CACHE_LEADERBOARD_BAND", default=20)
CACHE_LEADERBOARD_TOP = env.int("CACHE_LEADERBOARD_TOP", default=5000)
if CACHE_LEADERBOARD_BAND < 1 or CACHE_LEADERBOARD_TOP < 1:
    raise ImproperlyConfigured("CACHE_LEADERBOARD_BAND and CACHE_LEADERBOARD_TOP must be >= 1")
# Refresh-ahead (XFetch): a hit recomputes early with a probability growing towards its
# expiry; BETA 0 turns it off. MIN_MS is the least "cost" assumed of a loader (see flight).
CACHE_REFRESH_AHEAD_BETA = env.float("CACHE_REFRESH_AHEAD_BETA", default=1.0)
CACHE_REFRESH_AHEAD_MIN_MS = env.int("CACHE_REFRESH_AHEAD_MIN_MS", default=1000)
# ...and at least this fraction of the value's TTL (6 s of a 60 s TTL).
CACHE_REFRESH_AHEAD_FRACTION = env.float("CACHE_REFRESH_AHEAD_FRACTION", default=0.1)
# Ranks are recorded under buckets of this many xp (a move from a to b clears [a, b)).
CACHE_RANK_XP_BUCKET = env.int("CACHE_RANK_XP_BUCKET", default=10)
# One TTL per key family (docs/cache.md#ttls); each is overridable as CACHE_TTL_<NAME>.
CACHE_TTLS = {
    name: env.int(f"CACHE_TTL_{name.upper()}", default=seconds)
    for name, seconds in {
        "badges_all": 3600,
        "user_auth": 300,
        "user_badges": 300,
        "user_stats": 60,
        "user_rank": 300,
        "user_rsvps": 120,
        "user_rsvp_ids": 120,
        "leaderboard_page": 300,
        "experience_detail": 120,
        "experience_slots": 60,
        "experiences_list": 300,
        "event_detail": 300,
        "events_list": 600,
        "config": 7200,
    }.items()
}

# Django's own cache (throttling, sessions are in the DB): django-redis, fail-open. Its
# client connects like the cache layer's (guelaguetza.cache.transport.connect), so every
# REDIS_URL scheme works for both; LOCATION is a list because django-redis would split a
# string at the commas of a Sentinel or cluster URL.
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": [REDIS_URL],
        "KEY_PREFIX": "gc-django",
        "OPTIONS": {
            "CLIENT_CLASS": "guelaguetza.cache.transport.DjangoRedisClient",
            "SOCKET_CONNECT_TIMEOUT": CACHE_CONNECT_TIMEOUT,
            "SOCKET_TIMEOUT": CACHE_SOCKET_TIMEOUT,
            "IGNORE_EXCEPTIONS": True,
        },
    }
}

# --- Auth --------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# bcrypt, cost 12 (docs/api.md#authentication). The SHA-256 pre-hash lifts bcrypt's
# 72-byte limit; raw $2a$/$2b$ hashes imported from the original database verify through
# bcrypt_raw and are upgraded on the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "accounts.hashers.RawBcryptPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
JWT_SECRET = require_secret("JWT_SECRET", env("JWT_SECRET", default=SECRET_KEY))
JWT_ACCESS_SECRET = require_secret(
    "JWT_ACCESS_SECRET", env("JWT_ACCESS_SECRET", default=JWT_SECRET)
)
JWT_REFRESH_SECRET = require_secret(
    "JWT_REFRESH_SECRET", env("JWT_REFRESH_SECRET", default=JWT_SECRET)
)
ACCESS_TOKEN_LIFETIME = env.int("ACCESS_TOKEN_LIFETIME", default=900)  # seconds [F22]
REFRESH_TOKEN_LIFETIME = env.int("REFRESH_TOKEN_LIFETIME", default=7 * 24 * 3600)

# --- REST framework ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.OptionalJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["guelaguetza.api.renderers.ORJSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "guelaguetza.api.renderers.JSONOnlyNegotiation",
    "DEFAULT_PARSER_CLASSES": ["guelaguetza.api.parsers.ORJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "guelaguetza.api.schema.AutoSchema",
    # OPTIONS describes the route without building its serializer (views have none).
    "DEFAULT_METADATA_CLASS": "guelaguetza.api.metadata.RouteMetadata",
    "EXCEPTION_HANDLER": "guelaguetza.api.errors.exception_handler",
    # Scopes (global, auth, bookings) are chosen from the request: see the module.
    "DEFAULT_THROTTLE_CLASSES": ["guelaguetza.api.throttling.ScopedRateThrottle"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Guelaguetza Connect API",
    "VERSION": APP_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    # Responses, error bodies and auth of every operation (see the module).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "guelaguetza.api.schema.postprocess",
    ],
}

# --- Rate limits (docs/api.md#rate-limits) ------------------------------------------------
RATE_LIMITS_ENABLED = env.bool("RATE_LIMITS_ENABLED", default=True)
RATE_LIMIT_GLOBAL = env("RATE_LIMIT_GLOBAL", default="100/min")
RATE_LIMIT_AUTH = env("RATE_LIMIT_AUTH", default="5/min")
RATE_LIMIT_BOOKINGS = env("RATE_LIMIT_BOOKINGS", default="20/min")
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# --- CORS (docs/api.md#routing) -----------------------------------------------------------
# The default adds the front end's development servers (its own port 3000 and Vite's
# 5173) so `make run` works with it out of the box; production sets its own list.
CORS_ORIGINS = env.list(
    "CORS_ORIGINS",
    default=[
        "https://guelaguetzaconnect.com",
        "http://localhost:3000",
        "http://127.0.0.1:3000",
        "http://localhost:5173",
        "http://127.0.0.1:5173",
    ],
)
CORS_ALLOW_ALL_ORIGINS = DEBUG  # development reflects any origin
CORS_ALLOWED_ORIGINS = CORS_ORIGINS
CORS_ALLOW_CREDENTIALS = True

# --- Metrics ------------------------------------------------------------------------------
METRICS_TOKEN = env("METRICS_TOKEN", default="")
PROMETHEUS_METRIC_NAMESPACE = ""

# --- Benchmarks ---------------------------------------------------------------------------
# Routes /api/bench/floor (constant bytes) for bench/load.py; off in every deployment.
BENCH_ENDPOINTS_ENABLED = env.bool("BENCH_ENDPOINTS_ENABLED", default=False)

# --- Domain ------------------------------------------------------------------------------
FESTIVAL_TIME_ZONE = env("FESTIVAL_TIME_ZONE", default="America/Mexico_City")
# Longest a booking waits for a slot row held by another transaction before its 409.
BOOKING_LOCK_TIMEOUT_MS = env.int("BOOKING_LOCK_TIMEOUT_MS", default=2000)

# --- I18n, static ------------------------------------------------------------------------
LANGUAGE_CODE = "es-mx"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# WhiteNoise warns when STATIC_ROOT is missing (before the first `collectstatic`, as in
# tests); an empty directory is harmless (var/ is ignored by git).
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
