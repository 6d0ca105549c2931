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
(see :mod:`guelaguetza.cache.invalidation`); inside the application's own transaction a
read bypasses the cache, so uncommitted data is never stored.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any

import redis
from django.conf import settings
from django.core.signals import setting_changed
from redis.backoff import NoBackoff
from redis.retry import Retry

from guelaguetza.cache import invalidation
from guelaguetza.cache.registry import CASCADES, CacheKey, namespace_of, resolve

logger = logging.getLogger(__name__)

_MISS = object()
GEN_PREFIX = "gen:"
LOCK_PREFIX = "lock:"


def new_generation() -> str:
    """A generation value that never repeats: nanosecond clock + 32 random bits."""
    return f"{time.time_ns():x}{secrets.randbits(32):08x}"


def jittered(ttl: int) -> int:
    spread = float(getattr(settings, "CACHE_TTL_JITTER", 0.0))
    if ttl <= 0 or spread <= 0:
        return max(ttl, 1)
    return max(1, round(ttl * random.uniform(1 - spread, 1 + spread)))


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class CacheService:
    """The project's one way to read and invalidate Redis (DESIGN.md, "CacheService").

    ``redis_url``/``prefix`` default to settings (read when first needed), so tests can
    point a service at a private redis-server.
    """

    def __init__(self, *, redis_url: str | None = None, prefix: str | None = None) -> None:
        self._redis_url = redis_url
        self._prefix = prefix
        self._client: redis.Redis | None = None

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
                # the latency every request pays (no retry storms).
                retry=Retry(NoBackoff(), 0),
                health_check_interval=0,
            )
        return self._client

    def reset(self) -> None:
        """Drop the connection pool (settings changed, or after fork in tests)."""
        if self._client is not None:
            self._client.close()
        self._client = None

    def _k(self, key: str) -> str:
        return self.prefix + key

    def _g(self, namespace: str) -> str:
        return self.prefix + GEN_PREFIX + namespace

    # -- reads ------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        """The cached value of ``key``, or ``default`` on a miss (or when Redis fails)."""
        ckey = resolve(key)
        try:
            value, _ = self._read(ckey)
        except redis.RedisError:
            logger.warning("cache get failed", exc_info=True)
            return default
        return default if value is _MISS else value

    def wrap(self, key: str, loader: Callable[[], Any], ttl: int | None = None) -> Any:
        """Cache-aside: the cached value of ``key``, else ``loader()`` stored and returned.

        ``loader`` must return JSON-compatible data (the response payload). Redis errors
        never reach the caller: the loader's value is returned.
        """
        ckey = resolve(key)
        if not settings.CACHE_ENABLED or invalidation.in_transaction():
            return loader()
        try:
            value, gens = self._read(ckey)
        except redis.RedisError:
            logger.warning("cache read failed", exc_info=True)
            return loader()
        if value is not _MISS:
            return value
        value = loader()
        try:
            self._store(ckey, value, gens, ttl)
        except redis.RedisError:
            logger.warning("cache store failed", exc_info=True)
        return value

    def _read(self, ckey: CacheKey) -> tuple[Any, list[bytes]]:
        """One MGET of the value and its generations; (value or _MISS, generations)."""
        names = [self._g(ns) for ns in ckey.namespaces]
        raw, *gens = self.client.mget([self._k(ckey), *names])
        if any(g is None for g in gens):
            gens = self._init_generations(names, gens)
            return _MISS, gens
        if raw is None:
            return _MISS, gens
        header, _, payload = raw.partition(b"\n")
        if header != b"|".join(gens):
            return _MISS, gens
        return json.loads(payload), gens

    def _init_generations(self, names: list[str], gens: list[bytes | None]) -> list[bytes]:
        """Create missing generation keys with fresh values (SET NX: the first writer
        wins) and read back the winners, in one round trip."""
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
        ckey = resolve(key)
        try:
            _, gens = self._read(ckey)
            self._store(ckey, value, gens, ttl)
        except redis.RedisError:
            logger.warning("cache set failed", exc_info=True)

    def _store(self, ckey: CacheKey, value: Any, gens: list[bytes], ttl: int | None) -> None:
        if ttl is None:
            ttl = settings.CACHE_TTLS[ckey.family.name]
        data = b"|".join(gens) + b"\n" + _dumps(value)
        self.client.set(self._k(ckey), data, ex=jittered(ttl))

    def ttl(self, key: str) -> int | None:
        """Seconds left on ``key`` (None when absent or without expiry). For tests/ops."""
        seconds = self.client.ttl(self._k(resolve(key)))
        return seconds if seconds >= 0 else None

    # -- invalidation (deferred to on_commit, deduplicated per transaction) -----------
    def delete(self, key: str) -> None:
        self.delete_many([key])

    def delete_many(self, keys: Iterable[str]) -> None:
        for key in keys:
            invalidation.schedule(self, ("key", str(resolve(key))))

    def invalidate(self, pattern: str) -> None:
        """Invalidate every key under a namespace of the tree: ``"user:123:*"``.

        Only namespace prefixes are accepted here (O(1)); other globs are for the
        ``cache_invalidate`` ops command, which scans.
        """
        ns = namespace_of(pattern)
        if ns is None:
            raise ValueError(f"not a namespace pattern of the cache tree: {pattern!r}")
        invalidation.schedule(self, ("ns", ns))

    def cascade(self, name: str, **ids: object) -> None:
        """Everything a write clears, by its name in the invalidation map (CASCADES)."""
        for entry in CASCADES[name]:
            target = entry.format(**{k: str(v) for k, v in ids.items()})
            if target.endswith(":*"):
                self.invalidate(target)
            else:
                self.delete(target)

    def apply(self, ops: Iterable[tuple[str, str]]) -> None:
        """Run invalidation ops now, in one pipelined round trip. Called after commit."""
        ttl = settings.CACHE_GENERATION_TTL
        pipe = self.client.pipeline(transaction=False)
        for kind, target in ops:
            pipe.set(self._g(target), new_generation(), ex=ttl)
            if kind == "key":
                pipe.unlink(self._k(target))
        pipe.execute()


cache = CacheService()


def _on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting in {"REDIS_URL", "CACHE_SOCKET_TIMEOUT", "CACHE_CONNECT_TIMEOUT"}:
        cache.reset()


setting_changed.connect(_on_setting_changed, dispatch_uid="guelaguetza.cache.reset")
