"""Invalidation after commit, deduplicated per transaction (docs/cache.md#after-commit).

:class:`Invalidation` gives Invalidation its four kinds: ``delete`` (direct),
``delete_many`` (multiple), ``invalidate`` (pattern: a namespace of the tree, O(1)) and
``cascade`` (a named entry of the invalidation map). Each becomes ops ``("key", key)``
or ``("ns", namespace)``; applying one is a generation bump (plus an UNLINK for a key).

``schedule(service, op)`` runs ``op`` at once outside a transaction. Inside one it adds
the op to the transaction's batch: one ``on_commit`` callback per transaction flushes
every distinct op in a single pipelined round trip. A rollback discards the callback,
so a rolled-back write invalidates nothing. Ops that fail because Redis is down are
kept: replayed by the breaker's probe, by the next invalidation, and by a read at most
once per CACHE_REPLAY_INTERVAL_SECONDS; until then a read of what they cover is a miss.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

import redis
from django.conf import settings
from django.db import transaction

from guelaguetza.cache.metrics import INVALIDATIONS, SECONDS
from guelaguetza.cache.registry import CASCADES, CacheKey, key_part, namespace_of, resolve
from guelaguetza.cache.transport import REDIS_ERRORS, Transport, new_generation

#: failed invalidations kept for replay (beyond this the oldest are dropped, TTLs bound)
PENDING_MAX = 10_000

logger = logging.getLogger(__name__)
_local = threading.local()


def in_transaction(using: str | None = None) -> bool:
    """True inside one of the application's atomic blocks.

    Django's TestCase wraps each test in atomic blocks marked ``_from_testcase``; those
    stand for autocommit, not for a transaction of the application, exactly as Django's
    own ``durable`` check treats them.
    """
    conn = transaction.get_connection(using)
    return conn.in_atomic_block and any(
        not getattr(block, "_from_testcase", False) for block in conn.atomic_blocks
    )


class _Batch:
    """The ops of one transaction, flushed by its single on_commit callback."""

    def __init__(self, service: Invalidation) -> None:
        self.service = service
        self.ops: dict[tuple[str, str], None] = {}

    def __call__(self) -> None:
        if _local.__dict__.get("batch") is self:
            _local.batch = None
        run(self.service, list(self.ops))


def run(service: Invalidation, ops: list[tuple[str, str]]) -> None:
    """Apply ``ops`` now; never raises (failures are kept for replay by the service)."""
    try:
        service.apply(ops)
    except redis.RedisError:
        # TTLs bound the staleness; generation keys make a recovered Redis safe.
        logger.warning("cache invalidation failed: %s", ops, exc_info=True)


def schedule(service: Invalidation, op: tuple[str, str]) -> None:
    """Apply ``op`` after the current transaction commits (at once outside one)."""
    if not in_transaction():
        run(service, [op])
        return
    conn = transaction.get_connection()
    batch: _Batch | None = _local.__dict__.get("batch")
    # A batch whose callback is no longer pending (flushed, or dropped by a rollback)
    # must not collect more ops: start a new one for this transaction.
    if (
        batch is None
        or batch.service is not service
        or not any(func is batch for _, func, _ in conn.run_on_commit)
    ):
        batch = _Batch(service)
        _local.batch = batch
        transaction.on_commit(batch, robust=True)
    batch.ops[op] = None


class Invalidation(Transport):
    """The invalidation half of Invalidation (every method defers to on_commit)."""

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
        schedule(self, ("ns", ns))

    def cascade(self, name: str, **ids: object) -> None:
        """Everything a write clears, by its name in the invalidation map (CASCADES)."""
        INVALIDATIONS["cascade"].inc()
        for entry in CASCADES[name]:
            # Ids normalised exactly as keys.<family>(...) does, so the targets match.
            target = entry.format_map({k: key_part(v) for k, v in ids.items()})
            if target.endswith(":*"):
                schedule(self, ("ns", self._namespace(target)))
            else:
                self._schedule_key(target)

    def _schedule_key(self, key: str) -> None:
        schedule(self, ("key", str(key if type(key) is CacheKey else resolve(key))))

    @staticmethod
    def _namespace(pattern: str) -> str:
        ns = namespace_of(pattern)
        if ns is None:
            raise ValueError(f"not a namespace pattern of the cache tree: {pattern!r}")
        return ns

    def apply(self, ops: Iterable[tuple[str, str]], *, strict: bool = False) -> None:
        """Run invalidation ops now, in one pipelined round trip (called after commit).

        A key op bumps the key's own generation and unlinks it; a namespace op bumps the
        namespace's generation. If Redis fails, the ops are kept and replayed before the
        next read or invalidation that reaches Redis (until then TTLs bound the
        staleness); ``strict`` (ops commands) raises instead.
        """
        ops = list(ops)
        if not ops:
            return
        start = time.perf_counter()
        if strict:
            self._write_ops(self.client, ops)
        elif not self.breaker.allow():
            self._failed(ops[0][1], None)
            self._defer(ops)
        else:
            self._apply_now(ops)
        SECONDS["invalidate"].observe(time.perf_counter() - start)

    def _replay_pending(self) -> bool:
        """Write the invalidations kept from earlier failures (before a read)."""
        return self._apply_now([])

    def _after_probe(self) -> bool:
        # The breaker's probe found Redis back: replay what failed during the outage
        # there, in its background thread, rather than in front of a read. A replay
        # that fails keeps the breaker open.
        if not self._pending:
            return True
        self._replay_at = time.monotonic()
        return self._replay_pending()

    def _replay_due(self) -> bool:
        """At most one replay attempt per CACHE_REPLAY_INTERVAL_SECONDS from reads: a
        queue that keeps failing costs one call per interval, never one per read."""
        now = time.monotonic()
        if now - self._replay_at < float(settings.CACHE_REPLAY_INTERVAL_SECONDS):
            return False
        self._replay_at = now
        return True

    def pending_blocks(self, names: Iterable[str]) -> bool:
        """Does a kept (not yet written) invalidation target one of ``names`` (a key or
        the namespaces of its generations)? Such a read is a miss, not a stale hit."""
        pending = self._pending
        if not pending:
            return False
        return any(("ns", n) in pending or ("key", n) in pending for n in names)

    def _apply_now(self, ops: list[tuple[str, str]]) -> bool:
        """Write ``ops`` and every op kept from earlier failures; the caller has the
        breaker's permission. False (and everything kept again) if Redis fails."""
        with self._pending_lock:
            ops = list(dict.fromkeys([*self._pending, *ops]))
            self._pending.clear()
        if not ops:
            return True
        self.network_calls += 1
        try:
            self._write_ops(self.client, ops)
        except REDIS_ERRORS as exc:
            self._failed(ops[0][1], exc)
            self._defer(ops)
            return False
        self.breaker.success()
        return True

    def _write_ops(self, client: redis.Redis, ops: list[tuple[str, str]]) -> None:
        ttl = settings.CACHE_GENERATION_TTL
        pipe = client.pipeline(transaction=False)
        for kind, target in ops:
            pipe.set(self.gen_name(target), new_generation(), ex=ttl)
            if kind == "key":
                pipe.unlink(self.key_name(target))
        pipe.execute()

    def _defer(self, ops: list[tuple[str, str]]) -> None:
        logger.warning("cache: %d invalidations kept for replay: %s", len(ops), ops[:5])
        with self._pending_lock:
            for op in ops:
                self._pending[op] = None
            while len(self._pending) > PENDING_MAX:
                self._pending.pop(next(iter(self._pending)))
