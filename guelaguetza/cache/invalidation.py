"""Invalidation after commit, deduplicated per transaction (DESIGN.md rule 1).

``schedule(service, op)`` runs ``op`` at once outside a transaction. Inside one it adds
the op to the transaction's batch: one ``on_commit`` callback per transaction flushes
every distinct op in a single pipelined round trip. A rollback discards the callback,
so a rolled-back write invalidates nothing.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import redis
from django.db import transaction

if TYPE_CHECKING:
    from guelaguetza.cache.service import CacheService

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
    def __init__(self, service: CacheService) -> None:
        self.service = service
        self.ops: dict[tuple[str, str], None] = {}

    def __call__(self) -> None:
        if _local.__dict__.get("batch") is self:
            _local.batch = None
        run(self.service, list(self.ops))


def run(service: CacheService, ops: list[tuple[str, str]]) -> None:
    try:
        service.apply(ops)
    except redis.RedisError:
        # TTLs bound the staleness; generation keys make a recovered Redis safe.
        logger.warning("cache invalidation failed: %s", ops, exc_info=True)


def schedule(service: CacheService, op: tuple[str, str]) -> None:
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
