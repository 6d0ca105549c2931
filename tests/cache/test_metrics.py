"""cache_* metrics: counters by service, scrape-time hit rate and key count, bounded
labels, and the hit rate summed across processes in multiprocess mode."""

import os
import subprocess
import sys

from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from guelaguetza.cache import cache, keys
from guelaguetza.cache.metrics import KINDS, OPS, SERVICES, CacheCollector, hit_rate, totals
from guelaguetza.cache.registry import FAMILIES


def test_hits_misses_and_errors_count_per_service(metric):
    ev_hits = metric("cache_hits_total", service="events")
    ev_misses = metric("cache_misses_total", service="events")
    ex_hits = metric("cache_hits_total", service="experiences")
    key = keys.event_detail(event_id="e1")
    cache.wrap(key, lambda: 1)
    cache.wrap(key, lambda: 1)
    cache.get(key)
    assert (ev_misses.delta(), ev_hits.delta(), ex_hits.delta()) == (1, 2, 0)


def test_hit_rate_is_computed_at_scrape_time_from_the_counters():
    key = keys.experience_detail(experience_id="x1")
    for _ in range(4):
        cache.wrap(key, lambda: 1)
    t = totals()
    for service in SERVICES:
        expected = hit_rate(t["hits"][service], t["misses"][service])
        assert REGISTRY.get_sample_value("cache_hit_rate", {"service": service}) == expected
    assert t["hits"]["experiences"] > 0


def test_hit_rate_formula():
    assert hit_rate(3, 1) == 75.0
    assert hit_rate(0, 0) == 0.0


def test_keys_total_is_the_dbsize_of_the_cache_db(redis_client):
    cache.set(keys.config(name="a"), 1)
    cache.set(keys.config(name="b"), 2)
    assert REGISTRY.get_sample_value("cache_keys_total") == redis_client.dbsize() > 0


def test_keys_total_is_left_out_when_redis_is_down(private_redis, private_cache):
    private_redis.kill()
    families = {m.name: m for m in CacheCollector(private_cache.key_count).collect()}
    assert families["cache_keys_total"].samples == []
    assert len(families["cache_hit_rate"].samples) == len(SERVICES)


def test_operation_histogram_and_invalidation_kinds_are_recorded(metric):
    wrap = metric("cache_operation_seconds_count", op="wrap")
    inv = metric("cache_operation_seconds_count", op="invalidate")
    cache.wrap(keys.badges_all(), lambda: [])
    cache.invalidate("badges:*")
    assert wrap.delta() == 1
    assert inv.delta() == 1


def test_labels_never_carry_ids_or_keys():
    cache.wrap(keys.user_stats(user_id="secret-user-123"), lambda: 1)
    cache.cascade("xp_added", user_id="secret-user-123")
    allowed = {
        "service": set(SERVICES),
        "family": set(FAMILIES),
        "op": set(OPS),
        "kind": set(KINDS),
    }
    text = generate_latest(REGISTRY).decode()
    assert "secret-user-123" not in text
    for family in text_string_to_metric_families(text):
        if not family.name.startswith("cache_"):
            continue
        for sample in family.samples:
            for label, value in sample.labels.items():
                if label != "le":
                    assert value in allowed[label], (sample.name, label, value)


def test_totals_read_from_a_metrics_page_match_the_registry():
    cache.wrap(keys.config(name="x"), lambda: 1)
    page = text_string_to_metric_families(generate_latest(REGISTRY).decode())
    assert totals(page) == totals()


SCRIPT = """
import sys
from guelaguetza.cache import metrics as m
if sys.argv[1] == "count":
    from guelaguetza.cache import keys
    family = keys.event_detail(event_id="e1").family
    m.HITS[family].inc(int(sys.argv[2]))
    m.MISSES[family].inc(int(sys.argv[3]))
else:
    rates = {f.name: f.samples for f in m.CacheCollector(lambda: 0).collect()}
    print([s.value for s in rates["cache_hit_rate"] if s.labels["service"] == "events"][0])
"""


def test_hit_rate_sums_every_worker_in_multiprocess_mode(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    def run(*args):
        return subprocess.run(
            [sys.executable, "-c", SCRIPT, *args],
            env=env, capture_output=True, text=True, check=True, timeout=60,
        ).stdout  # fmt: skip

    run("count", "3", "1")  # worker 1: 75 %
    run("count", "0", "4")  # worker 2: 0 %
    assert float(run("rate")) == 3 / 8 * 100  # all workers: 3 hits of 8 reads
