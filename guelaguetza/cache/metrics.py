"""Prometheus metrics of the cache layer (docs/cache.md#metrics).

Counters and the histogram are plain prometheus_client objects, so they are
multiprocess-safe when ``PROMETHEUS_MULTIPROC_DIR`` is set before import (gunicorn).
Label children are bound once here: on the hit path an update is one ``inc()`` on a
pre-built child, no label lookup. Labels are the family's service and name (hits, misses,
refreshes: which family misses, e.g. cold per-user keys, is the first question about a
hit rate), the operation or the invalidation kind: never a user id or a key (bounded
cardinality: one sample per declared family).

``cache_hit_rate`` and ``cache_keys_total`` are not stored: :class:`CacheCollector`
computes them at scrape time, the hit rate from the counters of *every* worker (through
the multiprocess files when that mode is on), the key count from Redis (DBSIZE of the
cache's DB, one O(1) call that respects the circuit breaker and its short timeout).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric

SERVICES = ("accounts", "gamification", "events", "experiences")
OPS = ("get", "wrap", "set", "invalidate")
KINDS = ("direct", "pattern", "multiple", "cascade")

cache_hits_total = Counter(
    "cache_hits_total", "Cache reads served from Redis.", ["service", "family"]
)
cache_misses_total = Counter(
    "cache_misses_total",
    "Cache reads not served from Redis (absent, expired, invalidated, or Redis unavailable).",
    ["service", "family"],
)
cache_errors_total = Counter(
    "cache_errors_total",
    "Cache calls that failed or were skipped by the open circuit breaker.",
    ["service"],
)
cache_operation_seconds = Histogram(
    "cache_operation_seconds",
    "Duration of a cache operation (Redis round trips; a wrap miss includes its loader).",
    ["op"],
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.25, 1.0),
)
cache_invalidations_total = Counter(
    "cache_invalidations_total",
    "Invalidations scheduled, by kind (direct, pattern, multiple, cascade).",
    ["kind"],
)

cache_refreshes_total = Counter(
    "cache_refreshes_total",
    "Hits that recomputed their value ahead of its expiry (refresh-ahead).",
    ["service", "family"],
)


class _PerFamily(dict):
    """``counter``'s child of each key family, bound on first use: ``HITS[family]``.

    Keyed by the registry's Family (anything with ``service`` and ``name``), so this
    bottom module imports nothing of the registry beside it.
    """

    def __init__(self, counter: Counter) -> None:
        super().__init__()
        self.counter = counter

    def __missing__(self, family):
        child = self[family] = self.counter.labels(family.service, family.name)
        return child


HITS = _PerFamily(cache_hits_total)
REFRESHES = _PerFamily(cache_refreshes_total)
MISSES = _PerFamily(cache_misses_total)
ERRORS = {s: cache_errors_total.labels(s) for s in SERVICES}
SECONDS = {op: cache_operation_seconds.labels(op) for op in OPS}
INVALIDATIONS = {k: cache_invalidations_total.labels(k) for k in KINDS}


def totals(families: Iterable[Metric] | None = None) -> dict[str, dict[str, float]]:
    """``{"hits": {service: n}, "misses": {...}, "errors": {...}}`` summed over processes.

    ``families`` (e.g. parsed from a /metrics page) if given; else, in multiprocess mode,
    the files of every worker (so the rate is right under gunicorn); else this process's
    counters.
    """
    if families is not None:
        pass
    elif os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        families = registry.collect()
    else:
        families = [
            m
            for c in (cache_hits_total, cache_misses_total, cache_errors_total)
            for m in c.collect()
        ]
    out: dict[str, dict[str, float]] = {
        k: dict.fromkeys(SERVICES, 0.0) for k in ("hits", "misses", "errors")
    }
    names = {"cache_hits": "hits", "cache_misses": "misses", "cache_errors": "errors"}
    for family in families:
        kind = names.get(family.name.removesuffix("_total"))
        if kind is None:
            continue
        for sample in family.samples:
            service = sample.labels.get("service")
            if sample.name.endswith("_total") and service in out[kind]:
                out[kind][service] += sample.value
    return out


def hit_rate(hits: float, misses: float) -> float:
    """Percent of reads that hit; 0 before any read."""
    total = hits + misses
    return round(100.0 * hits / total, 2) if total else 0.0


class CacheCollector:
    """Scrape-time gauges: ``cache_hit_rate{service}`` and ``cache_keys_total``."""

    def __init__(self, key_count: Callable[[], int | None] | None = None) -> None:
        #: set by the service layer above (this module imports nothing of the cache)
        self.key_count = key_count

    def describe(self) -> list[Metric]:
        # Names only: registering must not read counters or call Redis.
        return [
            GaugeMetricFamily("cache_hit_rate", "", labels=["service"]),
            GaugeMetricFamily("cache_keys_total", ""),
        ]

    def collect(self) -> Iterable[Metric]:
        t = totals()
        rate = GaugeMetricFamily(
            "cache_hit_rate",
            "Percent of cache reads served from Redis, from the counters of all workers.",
            labels=["service"],
        )
        for service in SERVICES:
            rate.add_metric([service], hit_rate(t["hits"][service], t["misses"][service]))
        yield rate
        count = self.key_count() if self.key_count else None
        keys = GaugeMetricFamily(
            "cache_keys_total", "Keys in the cache's Redis DB (DBSIZE), read at scrape time."
        )
        if count is not None:  # Redis down or breaker open: no sample rather than a lie
            keys.add_metric([], count)
        yield keys


# In multiprocess mode the /metrics view adds this collector to its registry too
# (observability.views._scrape_time_collectors), so the gauges appear exactly once.
collector = CacheCollector()
REGISTRY.register(collector)
