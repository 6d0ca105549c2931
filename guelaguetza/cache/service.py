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

import logging
import random
import time
from collections.abc import Callable
from typing import Any

import orjson
import redis
from django.conf import settings
from django.core.signals import setting_changed

from guelaguetza.cache import flight, invalidation
from guelaguetza.cache.metrics import HITS, MISSES, SECONDS
from guelaguetza.cache.registry import CacheKey, resolve
from guelaguetza.cache.transport import (
    GEN_PREFIX,
    LOCK_PREFIX,
    REDIS_ERRORS,
    new_generation,
)
from guelaguetza.db_routing import primary_only  # [db routing]

logger = logging.getLogger(__name__)

__all__ = ["GEN_PREFIX", "LOCK_PREFIX", "CacheService", "cache", "jittered"]

_perf = time.perf_counter


def jittered(ttl: int) -> int:
    """``ttl`` spread by +-CACHE_TTL_JITTER so keys written together expire apart."""
    spread = float(getattr(settings, "CACHE_TTL_JITTER", 0.0))
    if ttl <= 0 or spread <= 0:
        return max(ttl, 1)
    return max(1, round(ttl * random.uniform(1 - spread, 1 + spread)))


def _dumps(value: Any) -> bytes:
    # orjson: compact UTF-8 JSON, and a decoder ~5x faster than the standard one, which
    # otherwise dominates a hit on a page-sized payload. Raises TypeError (as json does)
    # for values that are not JSON-ready.
    return orjson.dumps(value)


class _Miss:
    def __repr__(self) -> str:
        return "<miss>"


class CacheService(invalidation.Invalidation):
    """The project's one way to read and invalidate Redis (DESIGN.md, "CacheService").

    Reads here; invalidation in :class:`~guelaguetza.cache.invalidation.Invalidation`;
    connection and failure handling in :class:`~guelaguetza.cache.transport.Transport`.
    """

    MISS: Any = _Miss()

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
        # [db routing] A value about to be stored is loaded from the primary: a lagging
        # replica must never plant an old value under the current generations.
        with primary_only():
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
        # Invalidations that failed earlier go first, so this read cannot serve what
        # they were meant to clear.
        if self._pending and not self._apply_now([]):
            return self.FAILED
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
        if raw is not None:
            header, _, payload = raw.partition(b"\n")
            if header == b"|".join(gens):
                try:
                    return orjson.loads(payload), gens, locked
                except ValueError:
                    logger.warning("cache: undecodable value at %s", ckey)
        return self.MISS, gens, locked

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
        if not settings.CACHE_ENABLED:
            return
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


cache = CacheService()


def _on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting in {"REDIS_URL", "CACHE_SOCKET_TIMEOUT", "CACHE_CONNECT_TIMEOUT"}:
        cache.reset()


setting_changed.connect(_on_setting_changed, dispatch_uid="guelaguetza.cache.reset")
