"""The Redis side of the CacheService: connection, circuit breaker, guarded calls.

Every network call of the cache layer (:meth:`Transport.call`, the MGET of a read, the
pipeline of an invalidation) asks the per-process :class:`CircuitBreaker` first (no
network call at all while it is open); a failure is counted in
``cache_errors_total{service}`` and reported to the breaker, and nothing raises.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
import redis.cluster
import redis.sentinel
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django_redis.client import DefaultClient
from redis.backoff import NoBackoff
from redis.retry import Retry

from guelaguetza.cache.breaker import CircuitBreaker
from guelaguetza.cache.metrics import ERRORS
from guelaguetza.cache.registry import FAMILIES, CacheKey, service_of

logger = logging.getLogger(__name__)

GEN_PREFIX = "gen:"
# A read of values whose loaders recorded dependencies (cache.depends_on): MGET of every
# name, then, for each of the first ARGV[1] names (the values) that recorded some, the
# recorded generations compared by Redis itself, so the read stays one round trip. A
# value whose recorded generation moved comes back as nil (a miss). Layout: codec.py.
READ_SCRIPT = """
local out = redis.call('MGET', unpack(KEYS))
for i = 1, tonumber(ARGV[1]) do
  local v = out[i]
  if v and string.byte(v, 1) ~= 48 then
    local nl = string.find(v, '\\n', 1, true)
    local count = tonumber(string.sub(v, 1, nl - 1)) or 0
    local pos = nl + 1
    local names, want = {}, {}
    for j = 1, count do
      local sp = string.find(v, ' ', pos, true)
      local e = string.find(v, '\\n', sp, true)
      names[j] = string.sub(v, pos, sp - 1)
      want[j] = string.sub(v, sp + 1, e - 1)
      pos = e + 1
    end
    if count > 0 then
      local have = redis.call('MGET', unpack(names))
      for j = 1, count do
        if have[j] ~= want[j] then out[i] = false break end
      end
    end
  end
end
return out
"""
READ_SCRIPT_SHA = hashlib.sha1(READ_SCRIPT.encode()).hexdigest()
LOCK_PREFIX = "lock:"
#: what a failed Redis call raises (redis-py wraps most socket errors, not all; a cluster
#: that cannot be reached at all raises RedisClusterException, outside RedisError)
REDIS_ERRORS = (redis.RedisError, OSError, redis.exceptions.RedisClusterException)
#: error replies that mean "this node cannot serve us" (a demoted master, a cluster slot
#: elsewhere or down), not "Redis answered": they are failures for the breaker.
TOPOLOGY_REPLIES = (
    b"READONLY",
    b"CROSSSLOT",
    b"MOVED",
    b"ASK",
    b"CLUSTERDOWN",
    b"TRYAGAIN",
    b"MASTERDOWN",
    b"LOADING",
)


def is_topology_error(exc: BaseException) -> bool:
    """True for a reply of a node that is the wrong one or not ready (see TOPOLOGY_REPLIES);
    redis-py maps some to their own classes, others stay a plain ResponseError."""
    exceptions = redis.exceptions
    if isinstance(
        exc,
        (
            exceptions.ReadOnlyError,
            getattr(exceptions, "ClusterError", ()),
            getattr(exceptions, "ClusterDownError", ()),
            getattr(exceptions, "ClusterCrossSlotError", ()),
            getattr(exceptions, "MovedError", ()),
            getattr(exceptions, "AskError", ()),
            getattr(exceptions, "TryAgainError", ()),
            getattr(exceptions, "MasterDownError", ()),
            getattr(exceptions, "SlotNotCoveredError", ()),
        ),
    ):
        return True
    if not isinstance(exc, redis.ResponseError):
        return False
    head = str(exc).lstrip().split(" ", 1)[0].upper().encode()
    return head in TOPOLOGY_REPLIES


@functools.cache
def entity_roots() -> frozenset[str]:
    """First segments whose root namespace has an id (``user`` of ``user:{user_id}``):
    in cluster mode their keys hash by two segments, every other key by its first."""
    roots = set()
    for family in FAMILIES.values():
        for template in (family.template, *family.namespaces, *family.captures):
            segments = template.split(":")
            if len(segments) > 1 and segments[1].startswith("{"):
                roots.add(segments[0])
    return frozenset(roots)


def hash_tagged(name: str) -> str:
    """``user:1:stats`` -> ``{user:1}:stats``, ``badges:all`` -> ``{badges}:all``: a key,
    the generations of its namespaces and its lock then share one cluster slot (the root
    namespace's), so a read stays one MGET (docs/cache.md, "Redis topologies")."""
    segments = name.split(":", 2)
    root = ":".join(segments[:2]) if segments[0] in entity_roots() else segments[0]
    return "{" + root + "}" + name[len(root) :]


def untagged(name: str) -> str:
    """The tree's name of a hash-tagged one (ops commands match globs on these)."""
    return name.replace("{", "", 1).replace("}", "", 1) if "{" in name else name


def new_generation() -> str:
    """A generation value that never repeats: nanosecond clock + 32 random bits."""
    return f"{time.time_ns():x}{secrets.randbits(32):08x}"


PLAIN_SCHEMES = ("redis", "rediss", "unix")
#: scheme -> TLS
SENTINEL_SCHEMES = {"redis+sentinel": False, "rediss+sentinel": True}
CLUSTER_SCHEMES = {"redis+cluster": False, "rediss+cluster": True}


def _hosts(netloc: str, default_port: int) -> tuple[str | None, str | None, list]:
    """``[user[:password]@]host[:port][,host[:port]...]`` -> (user, password, nodes)."""
    userinfo, _, hostlist = netloc.rpartition("@")
    user, password = None, None
    if userinfo:
        user, _, password = userinfo.partition(":")
        user, password = unquote(user) or None, unquote(password) or None
    nodes = []
    for part in filter(None, (p.strip() for p in hostlist.split(","))):
        if part.startswith("["):  # [ipv6]:port
            host, _, port = part[1:].partition("]")
            port = port.lstrip(":")
        else:
            host, _, port = part.rpartition(":") if ":" in part else (part, "", "")
        nodes.append((host, int(port or default_port)))
    if not nodes:
        raise ImproperlyConfigured("REDIS_URL names no host")
    return user, password, nodes


def tls_options() -> dict[str, Any]:
    """redis-py's ssl_* options from REDIS_TLS_CA_FILE / _CERT_FILE / _KEY_FILE (the
    server certificate is always verified: against the CA file, else the system's)."""
    options: dict[str, Any] = {"ssl": True, "ssl_cert_reqs": "required"}
    for setting, option in (
        ("REDIS_TLS_CA_FILE", "ssl_ca_certs"),
        ("REDIS_TLS_CERT_FILE", "ssl_certfile"),
        ("REDIS_TLS_KEY_FILE", "ssl_keyfile"),
    ):
        value = getattr(settings, setting, "")
        if value:
            options[option] = value
    return options


def connect(url: str, *, socket_timeout: float, connect_timeout: float) -> Any:
    """The one kind of Redis client for ``url`` (docs/cache.md, "Redis topologies"):
    ``redis://`` / ``rediss://`` (one server, TLS), ``redis+sentinel://h:p[,h:p]/service/db``
    (the master Sentinel names now, followed after a failover) and
    ``redis+cluster://h:p[,h:p]`` / ``rediss+cluster://`` (RedisCluster). The cache layer,
    its locks and generations and, through :class:`DjangoRedisClient`, Django's cache and
    the rate limiter all connect here, so they always agree on the topology.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    common: dict[str, Any] = {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": connect_timeout,
        # One attempt per call: retries against a dead or hung server multiply the
        # latency every request pays (no retry storms). tests/cache/test_faults.py
        # checks that redis-py really makes a single attempt.
        "retry": Retry(NoBackoff(), 0),
    }
    if scheme in SENTINEL_SCHEMES:
        user, password, nodes = _hosts(parts.netloc, 26379)
        path = [p for p in parts.path.split("/") if p]
        if not path:
            raise ImproperlyConfigured("redis+sentinel:// URLs need /<service>[/<db>]")
        service, db = path[0], int(path[1]) if len(path) > 1 else 0
        tls = tls_options() if SENTINEL_SCHEMES[scheme] else {}
        sentinel = redis.sentinel.Sentinel(
            nodes,
            sentinel_kwargs={**common, **tls},
            **common,
            **tls,
        )
        return sentinel.master_for(
            service,
            db=db,
            username=user,
            password=password,
            health_check_interval=0,
            **common,
            **tls,
        )
    if scheme in CLUSTER_SCHEMES:
        user, password, nodes = _hosts(parts.netloc, 6379)
        tls = tls_options() if CLUSTER_SCHEMES[scheme] else {}
        return redis.cluster.RedisCluster(
            startup_nodes=[redis.cluster.ClusterNode(h, p) for h, p in nodes],
            username=user,
            password=password,
            **common,
            **tls,
        )
    if scheme not in PLAIN_SCHEMES:
        raise ImproperlyConfigured(
            f"REDIS_URL scheme {scheme!r} is not one of "
            f"{sorted([*PLAIN_SCHEMES, *SENTINEL_SCHEMES, *CLUSTER_SCHEMES])}"
        )
    tls = tls_options() if scheme == "rediss" else {}
    tls.pop("ssl", None)  # the scheme says so already
    return redis.Redis.from_url(url, health_check_interval=0, **common, **tls)


class DjangoRedisClient(DefaultClient):
    """django-redis' client (Django's "default" cache: the rate limiter, the replica
    router's markers) on :func:`connect`, so it follows the same ``REDIS_URL`` topology
    as the cache layer: Sentinel's current master, a cluster's slots, TLS settings."""

    def connect(self, index: int = 0) -> Any:
        return connect(
            self._server[index],
            socket_timeout=settings.CACHE_SOCKET_TIMEOUT,
            connect_timeout=settings.CACHE_CONNECT_TIMEOUT,
        )

    def disconnect(self, index: int = 0, client: Any = None) -> None:
        client = client if client is not None else self._clients[index]
        if client is not None:
            client.close()


def writable(client: Any) -> bool:
    """PING, then (one server or Sentinel) ROLE: True when the node answers as a master.
    A cluster: every node's CLUSTER INFO must say ok (every slot served; a dead master
    without a replica makes the others say ``fail``); some nodes answering while others
    do not is False (degraded), none answering raises (unavailable)."""
    if isinstance(client, redis.Redis):
        if not client.ping():
            return False
        role = client.execute_command("ROLE")
        return bool(role) and role[0] in (b"master", "master")
    answered, healthy, last_error = 0, True, None
    for node in client.get_nodes():
        try:
            info = client.get_redis_connection(node).cluster("info")
        except REDIS_ERRORS as exc:
            healthy, last_error = False, exc
            continue
        answered += 1
        healthy = healthy and info.get("cluster_state") in ("ok", b"ok")
    if not answered and last_error is not None:
        raise last_error
    return healthy


class Transport:
    """Connection and failure handling shared by the read and invalidation sides.

    ``redis_url``/``prefix`` default to settings (read when first needed), so tests can
    point a service at a private redis-server.
    """

    #: returned by a call that was skipped (breaker open) or failed
    FAILED: Any = object()

    def __init__(self, *, redis_url: str | None = None, prefix: str | None = None) -> None:
        self._redis_url = redis_url
        self._prefix = prefix
        self._client: redis.Redis | None = None
        self._cluster: bool | None = None
        self.breaker = CircuitBreaker(probe=self._probe)
        #: calls that went to the network (tests assert the open breaker adds none)
        self.network_calls = 0
        self._pending: dict[tuple[str, str], None] = {}
        self._pending_lock = threading.Lock()
        self._replay_at = float("-inf")  # last replay of _pending started by a read
        self._local = threading.local()  # the connection each thread keeps (_command)

    # -- connection -------------------------------------------------------------------
    @property
    def prefix(self) -> str:
        return self._prefix if self._prefix is not None else settings.CACHE_KEY_PREFIX

    @property
    def cluster(self) -> bool:
        """Cluster mode (from the URL's scheme, without connecting): keys hash-tagged."""
        if self._cluster is None:
            url = self._redis_url or settings.REDIS_URL
            self._cluster = urlsplit(url).scheme.lower() in CLUSTER_SCHEMES
        return self._cluster

    def key_name(self, key: str) -> str:
        """The Redis name of a key of the tree (exactly the tree's name but in a cluster)."""
        return self.prefix + (hash_tagged(key) if self.cluster else key)

    def gen_name(self, namespace: str) -> str:
        """The Redis name of the generation of a namespace (or of a key's own)."""
        if self.cluster:
            return self.prefix + GEN_PREFIX + hash_tagged(namespace)
        return self.prefix + GEN_PREFIX + namespace

    @property
    def client(self) -> redis.Redis:
        if self._client is None:
            self._client = connect(
                self._redis_url or settings.REDIS_URL,
                socket_timeout=settings.CACHE_SOCKET_TIMEOUT,
                connect_timeout=settings.CACHE_CONNECT_TIMEOUT,
            )
        return self._client

    def reset(self) -> None:
        """Drop the connection pool and the breaker's history (settings changed, tests)."""
        if self._client is not None:
            self._client.close()
        self._client = None
        self._cluster = None
        self.breaker.reset()

    def lock_name(self, ckey: CacheKey) -> str:
        """The Redis name of the single-flight lock of ``ckey``."""
        if self.cluster:
            return self.prefix + LOCK_PREFIX + hash_tagged(ckey)
        return self.prefix + LOCK_PREFIX + ckey

    def call(self, fn: Callable[[redis.Redis], Any], ckey: CacheKey | None = None) -> Any:
        """``fn(client)`` through the breaker; :attr:`FAILED` if skipped or failed."""
        if not self.breaker.allow():
            self._failed(ckey, None)
            return self.FAILED
        self.network_calls += 1
        try:
            result = fn(self.client)
        except REDIS_ERRORS as exc:
            self._failed(ckey, exc)
            return self.FAILED
        self.breaker.success()
        return result

    def _probe(self) -> bool:
        """The breaker's background probe: does Redis answer a PING in time, from a node
        that takes writes (a demoted master answers PING too)? Then the invalidations
        kept from the outage are replayed here, off the request path."""
        try:
            if not writable(self.client):
                logger.warning("cache: breaker probe: Redis answers but is not a master")
                return False
        except REDIS_ERRORS as exc:
            logger.warning("cache: breaker probe failed: %r", exc)
            return False
        return self._after_probe()

    def _after_probe(self) -> bool:
        """Hook for the invalidation side (replay what failed); False keeps it open."""
        return True

    def _failed(self, ckey: CacheKey | str | None, exc: BaseException | None) -> None:
        # Errors count per service of the key (or namespace); ops calls (no key) don't.
        if ckey is not None:
            ERRORS[ckey.family.service if type(ckey) is CacheKey else service_of(ckey)].inc()
        if exc is not None:
            # An error reply (OOM under noeviction, a script error) means Redis is up
            # and answering: reads can go on, so it does not count towards opening. A
            # topology reply (READONLY from a demoted master, CROSSSLOT, MOVED...) means
            # this node cannot serve us: that is a failure like a refused connection.
            if isinstance(exc, redis.ResponseError) and not is_topology_error(exc):
                self.breaker.success()
            else:
                self.breaker.failure()
            logger.warning("cache: Redis call failed: %r", exc)

    def _fetch(self, names: list[str], scripted_values: int = 0) -> list[bytes | None]:
        """MGET ``names``; with ``scripted_values`` > 0, READ_SCRIPT over them instead
        (its first ``scripted_values`` names are values with recorded dependencies)."""
        if self.cluster:
            # No Lua across slots: one MGET per slot (a single-root read is one), then
            # the recorded dependencies in a second round trip (READ_SCRIPT's check).
            raw = self.mget_any(names)
            return self._check_recorded(raw, scripted_values) if scripted_values else raw
        if not scripted_values:
            return self._mget(names)
        args = [READ_SCRIPT_SHA, len(names), *names, scripted_values]
        try:
            return self._command("EVALSHA", *args)
        except redis.exceptions.NoScriptError:
            # A restarted or flushed Redis forgot the script: EVAL loads it again.
            return self._command("EVAL", READ_SCRIPT, *args[1:])

    def mget_any(self, names: list[str]) -> list[bytes | None]:
        """MGET of names in any slots (split per slot in cluster mode)."""
        if self.cluster:
            return self.client.mget_nonatomic(names)
        return self.client.mget(names)

    def _check_recorded(self, raw: list, count: int) -> list:
        """What READ_SCRIPT does in Redis, for cluster mode: each of the first ``count``
        values whose recorded generations moved becomes None (a miss). Layout: codec.py."""
        wanted: list[tuple[int, str, bytes]] = []
        for i in range(count):
            value = raw[i]
            if not value or value[:1] == b"0":
                continue
            head, _, rest = value.partition(b"\n")
            try:
                lines = rest.split(b"\n", int(head))[: int(head)]
            except ValueError:
                raw[i] = None
                continue
            for line in lines:
                name, _, gen = line.partition(b" ")
                wanted.append((i, name.decode(), gen))
        if wanted:
            have = self.mget_any([name for _, name, _ in wanted])
            for (i, _, gen), current in zip(wanted, have, strict=True):
                if current != gen:
                    raw[i] = None
        return raw

    def _mget(self, names: list[str]) -> list[bytes | None]:
        return self._command("MGET", *names)

    def _command(self, *args: object) -> Any:
        """One command on a pooled connection, without redis-py's per-command machinery.

        ``Redis.execute_command`` (retry wrapper, observability hooks, callbacks) costs
        more than the round trip itself on a hit; MGET and EVALSHA need none of it (no
        retries by design, no response callback). A failed connection is dropped.

        With a plain connection pool (one server, TLS or not) each thread keeps the
        connection it took (:meth:`_held`): taking and releasing one per call (a lock,
        pool bookkeeping, a readiness poll) cost a fifth of a hit. A kept connection
        found closed by the server (a restart, an idle timeout) is reconnected once:
        what the pool's readiness check did. A timeout is never retried.
        """
        pool = self.client.connection_pool
        if type(pool) is not redis.ConnectionPool:  # Sentinel: the pool follows the master
            conn = pool.get_connection()
            try:
                conn.send_command(*args)
                return conn.read_response()
            except BaseException:
                conn.disconnect()
                raise
            finally:
                pool.release(conn)
        conn, reused = self._held(pool)
        try:
            conn.send_command(*args)
            return conn.read_response()
        except redis.ConnectionError:
            conn.disconnect()
            if not reused:
                self._drop_held(pool, conn)
                raise
        except BaseException:
            conn.disconnect()
            self._drop_held(pool, conn)
            raise
        # The kept connection had gone stale: one fresh attempt, as the pool would make.
        try:
            conn.send_command(*args)
            return conn.read_response()
        except BaseException:
            conn.disconnect()
            self._drop_held(pool, conn)
            raise

    def _held(self, pool: redis.ConnectionPool) -> tuple[Any, bool]:
        """This thread's connection of ``pool`` and whether it served a call before."""
        kept = self._local.__dict__.get("kept")
        if kept is not None and kept.pool is pool and kept.pid == os.getpid():
            return kept.conn, True
        conn = pool.get_connection()  # connected and checked by the pool
        self._local.kept = _Kept(pool, conn)
        return conn, False

    def _drop_held(self, pool: redis.ConnectionPool, conn: Any) -> None:
        """Give a failed connection back to its pool (which reconnects it when next taken)."""
        kept = self._local.__dict__.pop("kept", None)
        if kept is not None and kept.conn is conn:
            kept.give_back()
        else:
            pool.release(conn)


class _Kept:
    """A connection a thread keeps (:meth:`Transport._command`); given back to its pool
    when dropped, or when the thread ends (its thread-local values are freed then), so
    servers that start a thread per request (runserver) do not pile up connections."""

    __slots__ = ("__weakref__", "conn", "pid", "pool", "release")

    def __init__(self, pool: redis.ConnectionPool, conn: Any) -> None:
        self.pool, self.conn, self.pid = pool, conn, os.getpid()
        self.release = weakref.finalize(self, pool.release, conn)

    def give_back(self) -> None:
        self.release()  # once: a finalizer runs at most one time
