"""CacheService: cache-aside over Redis with namespace generations (docs/cache.md).

The top layer of the package (docs/cache.md#the-package-bottom-to-top): ``wrap(key,
loader)`` gives code the decoded value, ``entry(key, loader)`` gives a view the stored
bytes and ETag, ``invalidate("user:1:*")`` is one SET of a generation key. Inside the
application's own transaction a read bypasses the cache, so uncommitted data is never
stored; Redis failures never reach the caller (docs/architecture.md#redis-failure).
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

from guelaguetza.cache import codec, flight, invalidation, metrics
from guelaguetza.cache.codec import Entry
from guelaguetza.cache.metrics import HITS, MISSES, SECONDS
from guelaguetza.cache.registry import CacheKey, resolve
from guelaguetza.cache.storage import Storage, jittered
from guelaguetza.cache.transport import GEN_PREFIX, LOCK_PREFIX
from guelaguetza.db_routing import primary_only

__all__ = ["GEN_PREFIX", "LOCK_PREFIX", "CacheService", "cache", "jittered"]

_perf = time.perf_counter

#: keys the HTTP hit path found due for refresh-ahead and left to the view to recompute
refresh_requested: contextvars.ContextVar[frozenset] = contextvars.ContextVar(
    "cache_refresh_requested", default=frozenset()
)


class CacheService(Storage):
    """The project's one way to read and invalidate Redis."""

    # -- reads ------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        """The cached value of ``key``, or ``default`` on a miss (or when Redis fails)."""
        ckey = key if type(key) is CacheKey else resolve(key)
        if not settings.CACHE_ENABLED:
            return default
        start = _perf()
        read = self.read(ckey)
        if read is self.FAILED or read[0] is self.MISS:
            MISSES[ckey.family].inc()
            value = default
        else:
            HITS[ckey.family].inc()
            value = codec.decode_value(ckey.family, read[0].body)
        SECONDS["get"].observe(_perf() - start)
        return value

    def wrap(self, key: str, loader: Callable[[], Any], ttl: int | None = None) -> Any:
        """Cache-aside: the cached value of ``key``, else ``loader()`` stored and returned.

        ``loader`` must return JSON-compatible data. Redis errors never reach the
        caller: the loader's value is returned. Inside the application's own
        transaction the cache is bypassed (uncommitted data is never stored).
        """
        value, entry = self._lookup(key, loader, ttl)
        if value is self.MISS:
            ckey = key if type(key) is CacheKey else resolve(key)
            return codec.decode_value(ckey.family, entry.body)
        return value

    def entry(self, key: str, loader: Callable[[], Any], ttl: int | None = None) -> Entry:
        """Like :meth:`wrap`, but the stored entry: the response body bytes (envelope
        included) and their ETag, exactly as a hit serves them."""
        value, entry = self._lookup(key, loader, ttl)
        return self.unstored_entry(key, value) if entry is None else entry

    @staticmethod
    def unstored_entry(key: str, value: Any) -> Entry:
        """``value`` as :meth:`entry` gives it, bytes and ETag, without storing it (the
        cache is off, the caller is in a transaction, or the value must not be kept)."""
        ckey = key if type(key) is CacheKey else resolve(key)
        body, splice = codec.encode_body(ckey.family, value)
        return Entry(body, codec.etag_of(body), 0, 0, splice)

    def _lookup(
        self, key: str, loader: Callable[[], Any], ttl: int | None
    ) -> tuple[Any, Entry | None]:
        """``(value or MISS, entry or None)``: at least one of them is known."""
        ckey = key if type(key) is CacheKey else resolve(key)
        if not settings.CACHE_ENABLED or invalidation.in_transaction():
            return loader(), None
        start = _perf()
        read = self.read(ckey)
        if read is not self.FAILED and read[0] is not self.MISS:
            HITS[ckey.family].inc()
            entry, gens, _ = read
            if ckey in refresh_requested.get() or flight.refresh_due(entry):
                with primary_only():
                    refreshed = flight.refresh(self, ckey, loader, gens, ttl)
                if refreshed is not None:
                    metrics.REFRESHES[ckey.family].inc()
                    return refreshed
            SECONDS["wrap"].observe(_perf() - start)
            return self.MISS, entry
        MISSES[ckey.family].inc()
        if read is self.FAILED:
            return loader(), None
        # A value about to be stored is loaded from the primary: a lagging replica must
        # never plant an old value under the current generations (docs/cache.md).
        with primary_only():
            result = flight.load_once(self, ckey, loader, read[1], ttl)
        SECONDS["wrap"].observe(_perf() - start)
        return result

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

    def ttl(self, key: str) -> int | None:
        """Seconds left on ``key`` (None when absent, without expiry or Redis failing)."""
        ckey = key if type(key) is CacheKey else resolve(key)
        seconds = self.call(lambda c: c.ttl(self.key_name(ckey)), ckey)
        return None if seconds is self.FAILED or seconds < 0 else seconds

    def key_count(self) -> int | None:
        """Keys in the cache's Redis DB (DBSIZE, O(1)); None when Redis is unavailable."""
        count = self.call(lambda c: c.dbsize())
        return None if count is self.FAILED else count


cache = CacheService()
metrics.collector.key_count = cache.key_count


def _on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting in {"REDIS_URL", "CACHE_SOCKET_TIMEOUT", "CACHE_CONNECT_TIMEOUT"}:
        cache.reset()


setting_changed.connect(
    _on_setting_changed, dispatch_uid="guelaguetza.cache.service._on_setting_changed"
)
