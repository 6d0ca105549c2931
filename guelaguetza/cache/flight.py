"""Single flight on a miss (DESIGN.md, "Stampede protection").

When a hot key is missing, one caller (the one whose ``SET NX PX`` on
``<prefix>lock:<key>`` succeeds) runs the loader and stores its value; the others poll
the value for at most ``CACHE_LOCK_WAIT_MS`` and return it as soon as it is readable.
A poll is one MGET of the value, its generations and the lock: if the lock has gone
without a readable value (the leader's loader raised, or its value was invalidated
meanwhile), a waiter takes the lock itself; when the wait runs out it loads on its own.
The lock expires after ``CACHE_LOCK_TTL_MS`` in case its holder dies, and is released
with a compare-and-delete, so a slow leader never deletes a lock that has since passed
to someone else.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from guelaguetza.cache.registry import CacheKey
    from guelaguetza.cache.service import CacheService

# Delete the lock only if it still holds our token (one round trip, atomic).
RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)

_FIRST_POLL = 0.002
_MAX_POLL = 0.025


def load_once(
    service: CacheService,
    ckey: CacheKey,
    loader: Callable[[], Any],
    gens: list[bytes],
    ttl: int | None,
) -> Any:
    """The value of a missed key, loading it in at most one caller at a time.

    ``gens`` are the generations read *before* loading (stale-set race: a value loaded
    under generations an invalidation has since replaced is stored dead on arrival).
    Redis failures fall back to the loader; a raising loader releases the lock and
    propagates its exception.
    """
    lock = service.lock_name(ckey)
    token = secrets.token_hex(8)
    lock_ms = int(settings.CACHE_LOCK_TTL_MS)
    deadline = time.monotonic() + int(settings.CACHE_LOCK_WAIT_MS) / 1000
    pause = _FIRST_POLL
    while True:
        acquired = service.call(lambda c: c.set(lock, token, nx=True, px=lock_ms), ckey)
        if acquired is service.FAILED:  # Redis unavailable: no single flight, no store
            return loader()
        if acquired:
            return _lead(service, ckey, loader, gens, ttl, lock, token)
        while True:
            if time.monotonic() + pause > deadline:
                # Waited long enough: load (and store) without the lock.
                value = loader()
                service.store(ckey, value, gens, ttl)
                return value
            time.sleep(pause)
            pause = min(pause * 2, _MAX_POLL)
            polled = service.read(ckey, with_lock=lock)
            if polled is service.FAILED:  # Redis failed while we waited
                return loader()
            value, gens, locked = polled
            if value is not service.MISS:
                return value
            if not locked:
                break  # leader gone without a readable value: try to take over


def _lead(
    service: CacheService,
    ckey: CacheKey,
    loader: Callable[[], Any],
    gens: list[bytes],
    ttl: int | None,
    lock: str,
    token: str,
) -> Any:
    try:
        value = loader()
        # Stores and releases in one round trip; raises only if the value is not JSON.
        service.store(ckey, value, gens, ttl, release=(lock, token))
    except BaseException:
        service.call(lambda c: c.eval(RELEASE, 1, lock, token), ckey)
        raise
    return value
