"""Reading and writing stored values with their generations (docs/cache.md).

A read is one round trip: an MGET of the values and the generation keys of their
namespaces (READ_SCRIPT instead when a value's loader recorded dependencies, which Redis
then checks itself). A value whose header differs from the current generations is a
miss. A store tags the value with the generations read *before* loading, so a value
loaded before a writer's invalidation is dead on arrival (the stale-set race).

Loaders may record more dependencies while they run: ``depends_on("experience:42:row")``
reads those generations at once (before the loader reads the rows they cover) and the
store writes them into the value.
"""

from __future__ import annotations

import contextvars
import logging
import random
import time
from typing import Any

import redis
from django.conf import settings

from guelaguetza.cache import codec
from guelaguetza.cache.codec import Entry
from guelaguetza.cache.invalidation import Invalidation
from guelaguetza.cache.registry import CacheKey
from guelaguetza.cache.transport import GEN_PREFIX, REDIS_ERRORS, new_generation

logger = logging.getLogger(__name__)

RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)


def jittered(ttl: int) -> int:
    """``ttl`` spread by +-CACHE_TTL_JITTER so keys written together expire apart."""
    spread = float(getattr(settings, "CACHE_TTL_JITTER", 0.0))
    if ttl <= 0 or spread <= 0:
        return max(ttl, 1)
    return max(1, round(ttl * random.uniform(1 - spread, 1 + spread)))


class _Recording:
    """The dependencies one loader recorded (``depends_on``); ``failed`` when Redis did
    not answer, so the value must not be stored."""

    __slots__ = ("failed", "recorded")

    def __init__(self) -> None:
        self.recorded: dict[str, bytes] = {}
        self.failed = False


_recording: contextvars.ContextVar[_Recording | None] = contextvars.ContextVar(
    "cache_recording", default=None
)


class Storage(Invalidation):
    """Entries in Redis: read (one round trip), store, record dependencies."""

    MISS: Any = None  # set below: a sentinel distinct from every entry

    def read(self, ckey: CacheKey, with_lock: str | None = None) -> Any:
        """``(entry or MISS, generations, lock held)`` of ``ckey`` in one round trip, or
        FAILED. ``with_lock``: also whether that lock is held (single-flight waiters)."""
        extra = [with_lock] if with_lock else []
        result = self.read_many([ckey], extra=extra)
        if result is self.FAILED:
            return self.FAILED
        ((entry, gens),), extras = result
        return entry, gens, bool(extra) and extras[0] is not None

    def read_many(self, ckeys: list[CacheKey], extra: list[str] = ()) -> Any:
        """``([(entry or MISS, gens) per key], [raw value per extra name])`` in one round
        trip, or FAILED. ``extra`` are full Redis names read as they are (a lock)."""
        if not self.breaker.allow():
            self._failed(ckeys[0], None)
            return self.FAILED
        # Invalidations that failed earlier are retried at most once per interval (a
        # failing queue must not put a write in front of every read); whatever is still
        # kept makes the values it covers misses below, so none is served stale.
        if self._pending and self._replay_due() and not self._replay_pending():
            return self.FAILED
        scripted = len(ckeys) if any(k.family.captures for k in ckeys) else 0
        spans = []
        if self.cluster:  # hash-tagged names (transport.hash_tagged)
            key_name, gen_name = self.key_name, self.gen_name
            names = [key_name(k) for k in ckeys]
            for k in ckeys:
                start = len(names)
                names.extend(gen_name(ns) for ns in k.namespaces)
                spans.append((start, len(names)))
        else:  # the hit path: plain concatenation, the tree's own names
            prefix = self.prefix
            gen_prefix = prefix + GEN_PREFIX
            names = [prefix + k for k in ckeys]
            for k in ckeys:
                start = len(names)
                names.extend(gen_prefix + ns for ns in k.namespaces)
                spans.append((start, len(names)))
        first_extra = len(names)
        names.extend(extra)
        self.network_calls += 1
        try:
            raw = self._fetch(names, scripted)
            gen_names = names[len(ckeys) : first_extra]
            gen_values = raw[len(ckeys) : first_extra]
            if None in gen_values:
                gen_values = self._init_generations(gen_names, gen_values)
                raw = [*[None] * len(ckeys), *gen_values, *raw[first_extra:]]
        except REDIS_ERRORS as exc:
            self._failed(ckeys[0], exc)
            return self.FAILED
        self.breaker.success()
        out = []
        pending = self._pending
        for i, (start, end) in enumerate(spans):
            gens = raw[start:end]
            value = raw[i]
            entry = codec.unpack(value, gens) if value else None
            # A value behind a kept invalidation is a miss (a loader's recorded
            # dependencies are not known here: any kept op makes those misses too).
            if (
                entry is not None
                and pending
                and (ckeys[i].family.captures or self.pending_blocks(ckeys[i].namespaces))
            ):
                entry = None
            out.append((self.MISS if entry is None else entry, gens))
        return out, raw[first_extra:]

    def _init_generations(self, names: list[str], gens: list[bytes | None]) -> list[bytes]:
        """Create missing generation keys with fresh values (SET NX: the first writer
        wins) and read back the winners, in one round trip."""
        ttl = settings.CACHE_GENERATION_TTL
        pipe = self.client.pipeline(transaction=False)
        for name, gen in zip(names, gens, strict=True):
            if gen is None:
                pipe.set(name, new_generation(), nx=True, ex=ttl)
        if self.cluster:  # names in several slots: no single MGET
            pipe.execute()
            return self.mget_any(names)
        pipe.mget(names)
        return pipe.execute()[-1]

    # -- recorded dependencies -------------------------------------------------------
    def depends_on(self, *namespaces: str) -> None:
        """Inside a loader: the value being loaded also shows what ``namespaces`` cover
        (an entity a list shows). Reads their generations now, before the loader reads
        the rows, and stores them with the value; Redis checks them on every read.
        Outside a cache load (cache off, inside a transaction) it does nothing."""
        rec = _recording.get()
        if rec is None or rec.failed:
            return
        names = [
            name
            for name in map(self.gen_name, dict.fromkeys(namespaces))
            if name not in rec.recorded
        ]
        if not names:
            return
        try:
            gens = self.mget_any(names)
            if None in gens:
                gens = self._init_generations(names, gens)
        except REDIS_ERRORS as exc:
            logger.warning("cache: dependencies not recorded: %r", exc)
            rec.failed = True
            return
        rec.recorded.update(zip(names, gens, strict=True))

    def load(self, loader: Any) -> tuple[Any, _Recording, int]:
        """Run ``loader`` recording its dependencies: ``(value, recording, ms taken)``."""
        rec = _Recording()
        token = _recording.set(rec)
        start = time.monotonic()
        try:
            value = loader()
        finally:
            _recording.reset(token)
        return value, rec, max(1, round((time.monotonic() - start) * 1000))

    # -- writes -----------------------------------------------------------------------
    def store(
        self,
        ckey: CacheKey,
        value: Any,
        gens: list[bytes],
        ttl: int | None,
        *,
        recording: _Recording | None = None,
        delta_ms: int = 1,
        release: tuple[str, str] | None = None,
    ) -> Entry:
        """Write ``value`` tagged with ``gens`` (read before loading) and the recorded
        dependencies, releasing the single-flight lock in the same round trip. Returns
        the entry (its bytes and ETag) whether or not Redis took it."""
        if ttl is None:
            ttl = settings.CACHE_TTLS[ckey.family.name]
        ttl = jittered(ttl)
        # Refresh-ahead looks ahead by at least a fraction of the TTL: a key read every
        # few seconds is then recomputed before it expires, not only the very hottest.
        delta_ms = max(delta_ms, int(ttl * 1000 * settings.CACHE_REFRESH_AHEAD_FRACTION))
        body, splice = codec.encode_body(ckey.family, value)
        expires_ms = int(time.time() * 1000) + ttl * 1000
        entry = Entry(body, codec.etag_of(body), expires_ms, delta_ms, splice)
        if recording is not None and recording.failed:
            if release:
                self.call(lambda c: c.eval(RELEASE, 1, *release), ckey)
            return entry
        recorded = list(recording.recorded.items()) if recording is not None else []
        data = codec.pack(
            recorded=recorded,
            gens=gens,
            expires_ms=expires_ms,
            delta_ms=delta_ms,
            body=body,
            splice=splice,
        )

        def write(client: redis.Redis) -> None:
            pipe = client.pipeline(transaction=False)
            pipe.set(self.key_name(ckey), data, ex=ttl)
            if release:
                pipe.execute_command("EVAL", RELEASE, 1, *release)
            pipe.execute()

        self.call(write, ckey)
        return entry


class _Miss:
    def __repr__(self) -> str:
        return "<miss>"


Storage.MISS = _Miss()
