"""PostgreSQL read replicas: which database a read goes to.

``DATABASE_REPLICA_URLS`` adds the aliases ``replica_0``, ``replica_1``... (settings).
:class:`ReplicaRouter` sends every write, and every read by default, to ``default`` (the
primary); a read goes to a replica only in a safe request under ``/api/`` (marked by
:class:`ReplicaRoutingMiddleware`), outside :func:`primary_only` (cache fills: a lagging
replica must never be stored under current generations), outside a transaction, from a
caller who has not written within the sticky window (read-your-writes, a Redis key), and
when a replica is reachable and recent enough. The rules and their reasons:
docs/architecture.md#read-replicas and README.md#read-replicas.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import random
import threading
import time
from collections.abc import Iterator

from django.conf import settings
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

PRIMARY = "default"
REPLICA_PREFIX = "replica_"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# True inside primary_only(); the request's route (None outside a replica-eligible request).
_primary_only: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "gc_db_primary_only", default=False
)
_route: contextvars.ContextVar[_Route | None] = contextvars.ContextVar("gc_db_route", default=None)


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith(REPLICA_PREFIX)]


@contextlib.contextmanager
def primary_only() -> Iterator[None]:
    """Every read inside goes to the primary. Also usable as a decorator."""
    token = _primary_only.set(True)
    try:
        yield
    finally:
        _primary_only.reset(token)


def read_alias() -> str:
    """The alias the next read of this context goes to."""
    route = _route.get()
    if route is None or _primary_only.get() or connections[PRIMARY].in_atomic_block:
        return PRIMARY
    return route.alias()


class ReplicaRouter:
    """Django database router (settings.DATABASE_ROUTERS)."""

    def db_for_read(self, model, **hints) -> str:
        return read_alias()

    def db_for_write(self, model, **hints) -> str:
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # Every alias holds the same data: an object read on a replica may be related
        # to (and saved with) one read on the primary.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool:
        # Replicas receive the schema by streaming replication, never by `migrate`.
        return db == PRIMARY


# -- read-your-writes markers -----------------------------------------------------------
class _RedisState:
    """When Redis last failed in this process: until then every read is a primary read."""

    def __init__(self) -> None:
        self.down_until = 0.0

    def failed(self) -> None:
        self.down_until = time.monotonic() + float(settings.DATABASE_REPLICA_STICKY_SECONDS)

    def down(self) -> bool:
        return time.monotonic() < self.down_until


_redis_state = _RedisState()


def _client():
    # django-redis' client: the project's one configured Redis client (its settings,
    # timeouts and, later, its topology).
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def _marker(user_id: str) -> str:
    return f"{settings.CACHE_KEY_PREFIX}rw:user:{user_id}"


def mark_wrote(user_id: str) -> None:
    """Remember for DATABASE_REPLICA_STICKY_SECONDS that ``user_id`` wrote."""
    seconds = max(1, round(float(settings.DATABASE_REPLICA_STICKY_SECONDS) * 1000))
    try:
        _client().set(_marker(user_id), b"1", px=seconds)
    except Exception:  # any Redis or connection error: the marker is lost
        logger.warning("db routing: could not mark a write in Redis", exc_info=True)
        # Nobody can tell that this caller wrote: read the primary for the window.
        _redis_state.failed()


def wrote_recently(user_id: str) -> bool:
    """Whether ``user_id`` wrote within the window; True when Redis cannot tell."""
    if _redis_state.down():
        return True
    try:
        return bool(_client().exists(_marker(user_id)))
    except Exception:
        logger.warning("db routing: could not read a write marker", exc_info=True)
        _redis_state.failed()
        return True


def caller_id(request) -> str | None:
    """The user id of the request's bearer token (no database read), else None."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token or token.startswith("demo_"):
        return None
    from accounts.tokens import access_token_decode

    claims = access_token_decode(token.strip())
    return None if claims is None else claims["sub"]


# -- replica health ---------------------------------------------------------------------
_LAG_SQL = (
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0"
    " WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    " ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)


class _Health:
    """Per process and replica: unusable until ``retry_at`` after a failed connection,
    and its replay lag, measured at most every DATABASE_REPLICA_LAG_CHECK_SECONDS."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.retry_at: dict[str, float] = {}
        self.lag: dict[str, float] = {}
        self.lag_checked: dict[str, float] = {}

    def usable(self, alias: str) -> bool:
        now = time.monotonic()
        if now < self.retry_at.get(alias, 0.0):
            return False
        conn = connections[alias]
        try:
            # A connection kept from an earlier request (CONN_MAX_AGE) may be dead.
            conn.close_if_health_check_failed()
            conn.ensure_connection()
            if now - self.lag_checked.get(alias, -1e9) >= float(
                settings.DATABASE_REPLICA_LAG_CHECK_SECONDS
            ):
                with conn.cursor() as cursor:
                    cursor.execute(_LAG_SQL)
                    lag = float(cursor.fetchone()[0])
                with self.lock:
                    self.lag[alias] = lag
                    self.lag_checked[alias] = now
        except DatabaseError:
            logger.warning("db routing: replica %s unavailable", alias, exc_info=True)
            with contextlib.suppress(DatabaseError):
                conn.close()
            with self.lock:
                self.retry_at[alias] = now + float(settings.DATABASE_REPLICA_RETRY_SECONDS)
            return False
        return self.lag.get(alias, 0.0) <= float(settings.DATABASE_REPLICA_MAX_LAG_SECONDS)

    def reset(self) -> None:
        with self.lock:
            self.retry_at.clear()
            self.lag.clear()
            self.lag_checked.clear()


health = _Health()


def choose_replica() -> str:
    """A usable replica at random, else the primary."""
    aliases = replica_aliases()
    random.shuffle(aliases)
    for alias in aliases:
        if health.usable(alias):
            return alias
    return PRIMARY


class _Route:
    """One request's read alias, decided at its first routed read."""

    __slots__ = ("_alias", "request")

    def __init__(self, request) -> None:
        self.request = request
        self._alias: str | None = None

    def alias(self) -> str:
        if self._alias is None:
            # Until decided, reads made while deciding (none today) use the primary.
            self._alias = PRIMARY
            user_id = caller_id(self.request)
            if user_id is None or not wrote_recently(user_id):
                self._alias = choose_replica()
        return self._alias


class ReplicaRoutingMiddleware:
    """Marks replica-eligible requests and remembers who wrote (module docstring).

    With no replica configured it does nothing at all.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_aliases() or not request.path.startswith("/api/"):
            return self.get_response(request)
        method = request.method
        if method in SAFE_METHODS:
            token = _route.set(_Route(request))
            try:
                return self.get_response(request)
            finally:
                _route.reset(token)
        response = self.get_response(request)
        if method in UNSAFE_METHODS:
            user_id = caller_id(request)
            if user_id is not None:
                mark_wrote(user_id)
        return response
