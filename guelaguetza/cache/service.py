"""CacheService: cache-aside over Redis with namespace generations.

Storage: the value of ``user:1:stats`` lives at ``guelaguetza:user:1:stats`` as
``b"<gen>|<gen>\\n<json>"``, the generations of its namespaces (registry.CacheKey) at the
moment the reader *started* loading. A read is one MGET of the value and those
generation keys; a header that differs from the current generations is a miss. So:

* ``invalidate("user:1:*")`` is one SET of ``guelaguetza:gen:user:1`` to a fresh unique
  value: O(1) whatever the keyspace (no SCAN, no KEYS);
* a reader that loaded from the database before a writer's invalidation stores a value
  whose header is already outdated: the stale-set race is closed;
* a generation key that is lost (eviction, restart) comes back as a new unique value,
  never a previous one, so no old value can match again.

Invalidations are deferred to ``transaction.on_commit`` and deduplicated per transaction
(:mod:`guelaguetza.cache.invalidation`); inside the application's own transaction a
read bypasses the cache, so uncommitted data is never stored. A miss is loaded by one
caller at a time (:mod:`guelaguetza.cache.flight`).

Redis failures never reach the caller: reads fall back to the loader or the default,
invalidations are logged, counted and kept to be replayed when Redis answers again.
Every network call goes through the per-process :class:`CircuitBreaker`.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import redis
from django.conf import settings
from django.core.signals import setting_changed
from redis.backoff import NoBackoff
from redis.retry import Retry

from guelaguetza.cache import flight, invalidation
from guelaguetza.cache.breaker import CircuitBreaker
from guelaguetza.cache.metrics import ERRORS, HITS, INVALIDATIONS, MISSES, SECONDS
from guelaguetza.cache.registry import CASCADES, CacheKey, namespace_of, resolve, service_of

logger = logging.getLogger(__name__)

GEN_PREFIX = "gen:"
LOCK_PREFIX = "lock:"
#: what a failed or skipped Redis call gives back
REDIS_ERRORS = (redis.RedisError, OSError)
#: failed invalidations kept for replay (beyond this the oldest are dropped, TTLs bound)
PENDING_MAX = 10_000

_perf = time.perf_counter


def new_generation() -> str:
    """A generation value that never repeats: nanosecond clock + 32 random bits."""
    return f"{time.time_ns():x}{secrets.randbits(32):08x}"


def jittered(ttl: int) -> int:
    """``ttl`` spread by +-CACHE_TTL_JITTER so keys written together expire apart."""
    spread = float(getattr(settings, "CACHE_TTL_JITTER", 0.0))
    if ttl <= 0 or spread <= 0:
        return max(ttl, 1)
    return max(1, round(ttl * random.uniform(1 - spread, 1 + spread)))


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class _Miss:
    def __repr__(self) -> str:
        return "<miss>"


class CacheService:
    """The project's one way to read and invalidate Redis (DESIGN.md, "CacheService").

    ``redis_url``/``prefix`` default to settings (read when first needed), so tests can
    point a service at a private redis-server.
    """

    MISS: Any = _Miss()
    FAILED: Any = object()

    def __init__(self, *, redis_url: str | None = None, prefix: str | None = None) -> None:
        self._redis_url = redis_url
        self._prefix = prefix
        self._client: redis.Redis | None = None
        self.breaker = CircuitBreaker()
        self.breaker.on_close = self._replay
        #: calls that went to the network (tests assert the open breaker adds none)
        self.network_calls = 0
        self._pending: dict[tuple[str, str], None] = {}
        self._pending_lock = threading.Lock()

    # -- connection -------------------------------------------------------------------
    @property
    def prefix(self) -> str:
        return self._prefix if self._prefix is not None else settings.CACHE_KEY_PREFIX

    @property
    def client(self) -> redis.Redis:
        if self._client is None:
            self._client = redis.Redis.from_url(
                self._redis_url or settings.REDIS_URL,
                socket_timeout=settings.CACHE_SOCKET_TIMEOUT,
                socket_connect_timeout=settings.CACHE_CONNECT_TIMEOUT,
                # One attempt per call: retries against a dead or hung server multiply
                # the latency every request pays (no retry storms). tests/cache/
                # test_faults.py checks that redis-py really makes a single attempt.
                retry=Retry(NoBackoff(), 0),
                health_check_interval=0,
            )
        return self._client

    def reset(self) -> None:
        """Drop the connection pool and the breaker's history (settings changed, tests)."""
        if self._client is not None:
            self._client.close()
        self._client = None
        self.breaker.reset()

    def lock_name(self, ckey: CacheKey) -> str:
        """The Redis name of the single-flight lock of ``ckey``."""
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

    def _failed(self, ckey: CacheKey | str | None, exc: BaseException | None) -> None:
        # Errors count per service of the key (or namespace); ops calls (no key) don't.
        if ckey is not None:
            ERRORS[ckey.family.service if type(ckey) is CacheKey else service_of(ckey)].inc()
        if exc is not None:
            self.breaker.failure()
            logger.warning("cache: Redis call failed: %r", exc)

    # -- reads ------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        """The cached value of ``key``, or ``default`` on a miss (or when Redis fails)."""
        ckey = key if type(key) is CacheKey else resolve(key)
        if not settings.CACHE_ENABLED:
            return default
        start = _perf()
        read = self.read(ckey)
        service = ckey.family.service
        if read is self.FAILED or read[0] is self.MISS:
            MISSES[service].inc()
            value = default
        else:
            HITS[service].inc()
            value = read[0]
        SECONDS["get"].observe(_perf() - start)
        return value

    def wrap(self, key: str, loader: Callable[[], Any], ttl: int | None = None) -> Any:
        """Cache-aside: the cached value of ``key``, else ``loader()`` stored and returned.

        ``loader`` must return JSON-compatible data (the response payload). Redis errors
        never reach the caller: the loader's value is returned. Inside the application's
        own transaction the cache is bypassed (uncommitted data is never stored).
        """
        ckey = key if type(key) is CacheKey else resolve(key)
        if not settings.CACHE_ENABLED or invalidation.in_transaction():
            return loader()
        start = _perf()
        read = self.read(ckey)
        service = ckey.family.service
        if read is not self.FAILED and read[0] is not self.MISS:
            HITS[service].inc()
            SECONDS["wrap"].observe(_perf() - start)
            return read[0]
        MISSES[service].inc()
        if read is self.FAILED:
            return loader()
        value = flight.load_once(self, ckey, loader, read[1], ttl)
        SECONDS["wrap"].observe(_perf() - start)
        return value

    def read(self, ckey: CacheKey, with_lock: str | None = None) -> Any:
        """One MGET of the value and its generations (and ``with_lock``, for waiters):
        ``(value or MISS, generations, lock held)``, or FAILED."""
        if not self.breaker.allow():
            self._failed(ckey, None)
            return self.FAILED
        prefix = self.prefix
        names = [prefix + ckey]
        names.extend([prefix + GEN_PREFIX + ns for ns in ckey.namespaces])
        if with_lock:
            names.append(with_lock)
        self.network_calls += 1
        try:
            raw, *gens = self._mget(names)
            locked = bool(with_lock) and gens.pop() is not None
            if None in gens:
                raw = None
                gens = self._init_generations(names[1:], gens)
        except REDIS_ERRORS as exc:
            self._failed(ckey, exc)
            return self.FAILED
        self.breaker.success()
        if self._pending:
            self._replay()
        if raw is not None:
            header, _, payload = raw.partition(b"\n")
            if header == b"|".join(gens):
                try:
                    return json.loads(payload), gens, locked
                except ValueError:
                    logger.warning("cache: undecodable value at %s", ckey)
        return self.MISS, gens, locked

    def _mget(self, names: list[str]) -> list[bytes | None]:
        """MGET on a pooled connection, without redis-py's per-command machinery.

        ``Redis.execute_command`` (retry wrapper, observability hooks, callbacks) costs
        more than the round trip itself on a hit; MGET needs none of it (no retries
        by design, no response callback). A failed connection is dropped, not reused.
        """
        pool = self.client.connection_pool
        conn = pool.get_connection()
        try:
            conn.send_command("MGET", *names)
            return conn.read_response()
        except BaseException:
            conn.disconnect()
            raise
        finally:
            pool.release(conn)

    def _init_generations(self, names: list[str], gens: list[bytes | None]) -> list[bytes]:
        """Create missing generation keys with fresh values (SET NX: the first writer
        wins) and read back the winners, in one round trip."""
        names = names[: len(gens)]
        ttl = settings.CACHE_GENERATION_TTL
        pipe = self.client.pipeline(transaction=False)
        for name, gen in zip(names, gens, strict=True):
            if gen is None:
                pipe.set(name, new_generation(), nx=True, ex=ttl)
        pipe.mget(names)
        return pipe.execute()[-1]

    # -- writes -----------------------------------------------------------------------
    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        """Store ``value`` under the current generations of ``key``'s namespaces."""
        ckey = key if type(key) is CacheKey else resolve(key)
        start = _perf()
        read = self.read(ckey)
        if read is not self.FAILED:
            self.store(ckey, value, read[1], ttl)
        SECONDS["set"].observe(_perf() - start)

    def store(
        self,
        ckey: CacheKey,
        value: Any,
        gens: list[bytes],
        ttl: int | None,
        *,
        release: tuple[str, str] | None = None,
    ) -> None:
        """Write ``value`` tagged with ``gens`` (the generations read before loading),
        and release the single-flight lock in the same round trip."""
        if ttl is None:
            ttl = settings.CACHE_TTLS[ckey.family.name]
        data = b"|".join(gens) + b"\n" + _dumps(value)

        def write(client: redis.Redis) -> None:
            pipe = client.pipeline(transaction=False)
            pipe.set(self.prefix + ckey, data, ex=jittered(ttl))
            if release:
                pipe.eval(flight.RELEASE, 1, *release)
            pipe.execute()

        self.call(write, ckey)

    def ttl(self, key: str) -> int | None:
        """Seconds left on ``key`` (None when absent, without expiry or Redis failing)."""
        ckey = key if type(key) is CacheKey else resolve(key)
        seconds = self.call(lambda c: c.ttl(self.prefix + ckey), ckey)
        return None if seconds is self.FAILED or seconds < 0 else seconds

    def key_count(self) -> int | None:
        """Keys in the cache's Redis DB (DBSIZE, O(1)); None when Redis is unavailable."""
        count = self.call(lambda c: c.dbsize())
        return None if count is self.FAILED else count

    # -- invalidation (deferred to on_commit, deduplicated per transaction) -----------
    def delete(self, key: str) -> None:
        """Invalidate one key (direct), after commit."""
        INVALIDATIONS["direct"].inc()
        self._schedule_key(key)

    def delete_many(self, keys: Iterable[str]) -> None:
        """Invalidate several keys (multiple), after commit, in one round trip."""
        INVALIDATIONS["multiple"].inc()
        for key in keys:
            self._schedule_key(key)

    def invalidate(self, pattern: str) -> None:
        """Invalidate every key under a namespace of the tree: ``"user:123:*"``.

        Only namespace prefixes are accepted here (O(1)); other globs are for the
        ``cache_invalidate`` ops command, which scans.
        """
        ns = self._namespace(pattern)
        INVALIDATIONS["pattern"].inc()
        invalidation.schedule(self, ("ns", ns))

    def cascade(self, name: str, **ids: object) -> None:
        """Everything a write clears, by its name in the invalidation map (CASCADES)."""
        INVALIDATIONS["cascade"].inc()
        for entry in CASCADES[name]:
            target = entry.format(**{k: str(v) for k, v in ids.items()})
            if target.endswith(":*"):
                invalidation.schedule(self, ("ns", self._namespace(target)))
            else:
                self._schedule_key(target)

    def _schedule_key(self, key: str) -> None:
        invalidation.schedule(self, ("key", str(key if type(key) is CacheKey else resolve(key))))

    @staticmethod
    def _namespace(pattern: str) -> str:
        ns = namespace_of(pattern)
        if ns is None:
            raise ValueError(f"not a namespace pattern of the cache tree: {pattern!r}")
        return ns

    def apply(self, ops: Iterable[tuple[str, str]], *, strict: bool = False) -> None:
        """Run invalidation ops now, in one pipelined round trip (called after commit).

        A key op bumps the key's own generation and unlinks it; a namespace op bumps the
        namespace's generation. If Redis fails, the ops are kept and replayed when it
        answers again (until then TTLs bound the staleness); ``strict`` (ops commands)
        raises instead.
        """
        ops = list(ops)
        if not ops:
            return
        ttl = settings.CACHE_GENERATION_TTL
        prefix = self.prefix
        start = _perf()

        def write(client: redis.Redis) -> None:
            pipe = client.pipeline(transaction=False)
            for kind, target in ops:
                pipe.set(prefix + GEN_PREFIX + target, new_generation(), ex=ttl)
                if kind == "key":
                    pipe.unlink(prefix + target)
            pipe.execute()

        if strict:
            write(self.client)
        elif self.call(write, ops[0][1]) is self.FAILED:
            self._defer(ops)
        SECONDS["invalidate"].observe(_perf() - start)

    def _defer(self, ops: list[tuple[str, str]]) -> None:
        logger.warning("cache: invalidation kept for replay: %s", ops[:10])
        with self._pending_lock:
            for op in ops:
                self._pending[op] = None
            while len(self._pending) > PENDING_MAX:
                self._pending.pop(next(iter(self._pending)))

    def _replay(self) -> None:
        with self._pending_lock:
            ops = list(self._pending)
            self._pending.clear()
        if ops:
            logger.warning("cache: replaying %d invalidations kept while Redis failed", len(ops))
            self.apply(ops)


cache = CacheService()


def _on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting in {"REDIS_URL", "CACHE_SOCKET_TIMEOUT", "CACHE_CONNECT_TIMEOUT"}:
        cache.reset()


setting_changed.connect(_on_setting_changed, dispatch_uid="guelaguetza.cache.reset")
