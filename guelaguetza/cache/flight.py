"""Single flight on a miss, and refresh-ahead on a hit (docs/cache.md#stampede-protection).

When a key is missing, one caller (the one whose ``SET NX PX`` on ``<prefix>lock:<key>``
succeeds) runs the loader and stores its value; the others poll the value for at most
``CACHE_LOCK_WAIT_MS`` and return it as soon as it is readable. A poll is one MGET of
the value, its generations and the lock: if the lock has gone without a readable value
(the leader's loader raised, or its value was invalidated meanwhile), a waiter takes the
lock itself; when the wait runs out it loads on its own. The lock expires after
``CACHE_LOCK_TTL_MS`` in case its holder dies, and is released with a compare-and-delete.

Refresh-ahead ("XFetch", Vattani et al., VLDB 2015): a hit recomputes early with a
probability that grows as the value nears its expiry, scaled by how long it took to
compute; the caller that takes the same lock recomputes while every other caller keeps
the still valid value, so a hot key never expires into a miss and a cold one just expires.
"""

from __future__ import annotations

import math
import random
import secrets
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings

from guelaguetza.cache.codec import Entry
from guelaguetza.cache.registry import CacheKey
from guelaguetza.cache.storage import RELEASE, Storage

_FIRST_POLL = 0.002
_MAX_POLL = 0.025


def refresh_due(entry: Entry, now_ms: float | None = None) -> bool:
    """XFetch: recompute now, before ``entry`` expires? ``delta * beta * -ln(U)`` is
    how far ahead this caller looks; the delta is at least CACHE_REFRESH_AHEAD_MIN_MS,
    so a fast loader's hot key is still refreshed seconds, not microseconds, early."""
    beta = settings.CACHE_REFRESH_AHEAD_BETA
    if beta <= 0:
        return False
    now_ms = time.time() * 1000 if now_ms is None else now_ms
    delta = max(entry.delta_ms, settings.CACHE_REFRESH_AHEAD_MIN_MS)
    return now_ms - delta * beta * math.log(1.0 - random.random()) >= entry.expires_ms


def load_once(
    storage: Storage,
    ckey: CacheKey,
    loader: Callable[[], Any],
    gens: list[bytes],
    ttl: int | None,
) -> tuple[Any, Entry | None]:
    """``(value, entry)`` of a missed key, loading it in at most one caller at a time.

    ``gens`` are the generations read *before* loading (stale-set race: a value loaded
    under generations an invalidation has since replaced is stored dead on arrival).
    ``entry`` is None when the value came from another caller's store (only its decoded
    value is known) or Redis failed. A raising loader releases the lock and propagates.
    """
    lock = storage.lock_name(ckey)
    token = secrets.token_hex(8)
    lock_ms = int(settings.CACHE_LOCK_TTL_MS)
    deadline = time.monotonic() + int(settings.CACHE_LOCK_WAIT_MS) / 1000
    pause = _FIRST_POLL
    while True:
        acquired = storage.call(lambda c: c.set(lock, token, nx=True, px=lock_ms), ckey)
        if acquired is storage.FAILED:  # Redis unavailable: no single flight, no store
            return _load_and_store(storage, ckey, loader, gens, ttl, store=False)
        if acquired:
            return _load_and_store(storage, ckey, loader, gens, ttl, release=(lock, token))
        while True:
            if time.monotonic() + pause > deadline:
                # Waited long enough: load (and store) without the lock.
                return _load_and_store(storage, ckey, loader, gens, ttl)
            time.sleep(pause)
            pause = min(pause * 2, _MAX_POLL)
            polled = storage.read(ckey, with_lock=lock)
            if polled is storage.FAILED:  # Redis failed while we waited
                return _load_and_store(storage, ckey, loader, gens, ttl, store=False)
            entry, gens, locked = polled
            if entry is not storage.MISS:
                return storage.MISS, entry
            if not locked:
                break  # leader gone without a readable value: try to take over


def refresh(
    storage: Storage,
    ckey: CacheKey,
    loader: Callable[[], Any],
    gens: list[bytes],
    ttl: int | None,
) -> tuple[Any, Entry] | None:
    """Recompute a still valid value ahead of its expiry if no one else is doing it:
    ``(value, entry)``, or None when another caller holds the lock (keep the old one)."""
    lock = storage.lock_name(ckey)
    token = secrets.token_hex(8)
    lock_ms = int(settings.CACHE_LOCK_TTL_MS)
    acquired = storage.call(lambda c: c.set(lock, token, nx=True, px=lock_ms), ckey)
    if acquired is storage.FAILED or not acquired:
        return None
    return _load_and_store(storage, ckey, loader, gens, ttl, release=(lock, token))


def _load_and_store(
    storage: Storage,
    ckey: CacheKey,
    loader: Callable[[], Any],
    gens: list[bytes],
    ttl: int | None,
    *,
    release: tuple[str, str] | None = None,
    store: bool = True,
) -> tuple[Any, Entry | None]:
    try:
        value, recording, delta_ms = storage.load(loader)
        if not store:
            return value, None
        # Stores and releases in one round trip; raises only if the value is not JSON.
        entry = storage.store(
            ckey, value, gens, ttl, recording=recording, delta_ms=delta_ms, release=release
        )
    except BaseException:
        if release:
            storage.call(lambda c: c.eval(RELEASE, 1, *release), ckey)
        raise
    return value, entry
