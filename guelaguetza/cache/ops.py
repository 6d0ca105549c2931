"""Operator helpers for the manage.py cache commands: never on a request path.

These walk the keyspace with SCAN (bounded batches, so Redis stays responsive), which no
request may do; requests invalidate through namespace generations
(docs/cache.md#keys-and-namespaces).
Redis errors are left to reach the operator.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from fnmatch import fnmatchcase

from guelaguetza.cache.registry import FAMILIES
from guelaguetza.cache.service import GEN_PREFIX, LOCK_PREFIX, CacheService
from guelaguetza.cache.transport import untagged

SCAN_COUNT = 1000


def scan(service: CacheService, match: str, *, count: int = SCAN_COUNT) -> Iterator[list[bytes]]:
    """Batches of Redis names matching the glob ``match`` (already prefixed), as the tree
    names them. In cluster mode every primary is scanned in turn and the glob is matched
    against the names without their hash tags (``{user:1}:stats`` is ``user:1:stats``)."""
    if not service.cluster:
        yield from _scan_node(service.client, match, count)
        return
    for node in service.client.get_primaries():
        client = service.client.get_redis_connection(node)
        for names in _scan_node(client, service.prefix + "*", count):
            names = [n for n in names if fnmatchcase(untagged(n.decode(errors="replace")), match)]
            if names:
                yield names


def _scan_node(client, match: str, count: int) -> Iterator[list[bytes]]:
    cursor = 0
    while True:
        cursor, names = client.scan(cursor=cursor, match=match, count=count)
        if names:
            yield names
        if cursor == 0:
            return


def family_counts(service: CacheService) -> Counter:
    """Live keys under the prefix per family, plus ``gen``/``lock``/``other`` (SCAN)."""
    prefix = service.prefix
    counts: Counter = Counter()
    families = list(FAMILIES.values())
    for names in scan(service, prefix + "*"):
        for raw in names:
            key = untagged(raw.decode(errors="replace"))[len(prefix) :]
            if key.startswith(GEN_PREFIX):
                counts["gen"] += 1
            elif key.startswith(LOCK_PREFIX):
                counts["lock"] += 1
            else:
                family = next((f for f in families if f.match(key) is not None), None)
                counts[family.name if family else "other"] += 1
    return counts


def unlink_glob(
    service: CacheService,
    pattern: str,
    *,
    batch: int = 500,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """UNLINK every key under the prefix matching the glob ``pattern``, in batches.

    Returns how many keys were unlinked (matched, with ``dry_run``);
    ``progress(matched, unlinked)`` is called after each SCAN batch and once at the end.
    """
    matched = unlinked = 0
    for names in scan(service, service.prefix + pattern):
        matched += len(names)
        if not dry_run:
            for i in range(0, len(names), batch):
                unlinked += service.client.unlink(*names[i : i + batch])
        if progress:
            progress(matched, unlinked)
    if progress:
        progress(matched, unlinked)
    return matched if dry_run else unlinked
