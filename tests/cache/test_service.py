"""CacheService against the real Redis test DB: reads, writes, the four invalidation
kinds after commit, namespaces, generations."""

import json

import pytest
from django.db import transaction

from guelaguetza.cache import cache, keys
from guelaguetza.cache.service import GEN_PREFIX


class Loader:
    """A loader that counts its calls and returns the current ``value``."""

    def __init__(self, value=None) -> None:
        self.value = value
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.value


def test_wrap_counts_one_miss_then_hits(metric):
    key = keys.user_rank(user_id="u1")
    hits = metric("cache_hits_total", service="gamification")
    misses = metric("cache_misses_total", service="gamification")
    load = Loader({"rank": 3})
    assert [cache.wrap(key, load) for _ in range(3)] == [{"rank": 3}] * 3
    assert load.calls == 1
    assert (misses.delta(), hits.delta()) == (1, 2)


def test_get_returns_default_on_miss_and_value_after_set(metric):
    key = keys.event_detail(event_id="e1")
    misses = metric("cache_misses_total", service="events")
    hits = metric("cache_hits_total", service="events")
    assert cache.get(key, default="nada") == "nada"
    cache.set(key, {"title": "Danza", "n": [1, 2]})
    assert cache.get(key) == {"title": "Danza", "n": [1, 2]}
    assert (misses.delta(), hits.delta()) == (1, 1)


def test_values_are_stored_as_json_under_the_prefixed_key(redis_client):
    key = keys.experience_detail(experience_id="x1")
    cache.wrap(key, lambda: {"título": "Mezcal", "price": "450.00"})
    # No recorded dependencies, the generations, refresh-ahead meta + ETag, the body.
    recorded, header, meta, payload = redis_client.get("guelaguetza:experience:x1:detail").split(
        b"\n", 3
    )
    assert recorded == b"0"
    assert json.loads(payload) == {"título": "Mezcal", "price": "450.00"}
    assert header.count(b"|") == len(key.namespaces) - 1
    assert meta.split()[2].decode() == cache.entry(key, lambda: None).etag


def test_string_keys_of_the_tree_are_accepted_and_others_rejected():
    cache.set("user:u5:stats", {"xp": 1})
    assert cache.get(keys.user_stats(user_id="u5")) == {"xp": 1}
    with pytest.raises(ValueError):
        cache.get("not:a:family")
    with pytest.raises(ValueError):
        cache.invalidate("user:*:stats")  # a glob, not a namespace: ops command only


def test_delete_is_a_direct_invalidation(metric):
    key = keys.user_stats(user_id="u1")
    other = keys.user_rank(user_id="u1")
    direct = metric("cache_invalidations_total", kind="direct")
    cache.set(key, 1)
    cache.set(other, 2)
    cache.delete(key)
    assert cache.get(key) is None
    assert cache.get(other) == 2
    assert direct.delta() == 1


def test_delete_many_is_a_multiple_invalidation(metric):
    multiple = metric("cache_invalidations_total", kind="multiple")
    a, b, c = (keys.user_stats(user_id=u) for u in ("a", "b", "c"))
    for k in (a, b, c):
        cache.set(k, 1)
    cache.delete_many([a, str(b)])
    assert (cache.get(a), cache.get(b), cache.get(c)) == (None, None, 1)
    assert multiple.delta() == 1


def test_invalidate_prefix_clears_its_namespace_and_leaves_others_intact(metric):
    pattern = metric("cache_invalidations_total", kind="pattern")
    mine = [keys.user_stats(user_id="1"), keys.user_badges(user_id="1")]
    others = [
        keys.user_stats(user_id="10"),  # a longer id sharing the prefix "user:1"
        keys.user_stats(user_id="2"),
        keys.leaderboard_page(page=1, limit=20),
        keys.experience_detail(experience_id="1"),
    ]
    for k in mine + others:
        cache.set(k, str(k))
    cache.invalidate("user:1:*")
    assert [cache.get(k) for k in mine] == [None, None]
    assert [cache.get(k) for k in others] == [str(k) for k in others]
    assert pattern.delta() == 1


def test_nested_namespace_invalidation_clears_only_the_slots():
    slots = keys.experience_slots(experience_id="42", start="2026-07-01", end="2026-07-31")
    detail = keys.experience_detail(experience_id="42")
    cache.set(slots, [1])
    cache.set(detail, {"id": "42"})
    cache.invalidate("experience:42:slots:*")
    assert (cache.get(slots), cache.get(detail)) == (None, {"id": "42"})


def test_cascade_clears_what_the_invalidation_map_says(metric):
    cascade = metric("cache_invalidations_total", kind="cascade")
    hit = [
        keys.experience_detail(experience_id="e1"),
        keys.experience_slots(experience_id="e1", start="2026-07-01", end="2026-07-02"),
        keys.experiences_list(
            category=None, min_price=None, max_price=None, date=None, q=None, page=1, limit=10
        ),
    ]
    kept = [keys.experience_detail(experience_id="e2"), keys.user_rsvps(user_id="u2")]
    for k in hit + kept:
        cache.set(k, 1)
    cache.cascade("slot_availability_changed", experience_id="e1")
    assert [cache.get(k) for k in hit] == [None, None, None]
    assert [cache.get(k) for k in kept] == [1, 1]
    assert cascade.delta() == 1


@pytest.mark.django_db(transaction=True)
def test_invalidation_waits_for_commit_and_is_deduplicated(monkeypatch):
    key = keys.leaderboard_page(page=1, limit=20)
    cache.set(key, ["old"])
    applied = []
    apply = cache.apply
    monkeypatch.setattr(cache, "apply", lambda ops, **kw: applied.append(ops) or apply(ops))
    with transaction.atomic():
        for _ in range(5):
            cache.invalidate("leaderboard:*")
            cache.cascade("xp_added", user_id="u1")
        assert cache.get(key) == ["old"]  # nothing before commit
        before = cache.network_calls
    # One pipelined round trip for the distinct ops of the transaction.
    assert cache.network_calls - before == 1
    assert applied == [[("ns", "leaderboard"), ("key", "user:u1:stats"), ("key", "user:u1:rank")]]
    assert cache.get(key) is None


@pytest.mark.django_db(transaction=True)
def test_rollback_invalidates_nothing_of_any_kind():
    key = keys.user_stats(user_id="u9")
    cache.set(key, 1)
    with pytest.raises(RuntimeError), transaction.atomic():
        cache.delete(key)
        cache.delete_many([key])
        cache.invalidate("user:u9:*")
        cache.cascade("xp_added", user_id="u9")
        raise RuntimeError
    assert cache.get(key) == 1


@pytest.mark.django_db(transaction=True)
def test_wrap_inside_the_apps_transaction_bypasses_the_cache(redis_client):
    key = keys.user_stats(user_id="u3")
    load = Loader({"xp": "uncommitted"})
    with transaction.atomic():
        assert cache.wrap(key, load) == {"xp": "uncommitted"}
        assert cache.wrap(key, load) == {"xp": "uncommitted"}
    assert load.calls == 2
    assert redis_client.exists("guelaguetza:user:u3:stats") == 0


def test_lost_generation_key_restarts_from_a_fresh_value(redis_client):
    key = keys.leaderboard_page(page=2, limit=20)
    cache.set(key, ["old"])
    gen_name = "guelaguetza:" + GEN_PREFIX + "leaderboard"
    old_gen = redis_client.get(gen_name)
    stored = redis_client.get("guelaguetza:" + key)
    redis_client.delete(gen_name)  # as eviction or a restart would
    assert cache.get(key) is None
    new_gen = redis_client.get(gen_name)
    assert new_gen not in (None, old_gen, b"0", b"1")
    # The old value, even written back verbatim, can never match again.
    redis_client.set("guelaguetza:" + key, stored)
    assert cache.get(key) is None
    assert cache.wrap(key, lambda: ["new"]) == ["new"]
    assert cache.get(key) == ["new"]


def test_a_corrupt_value_is_a_miss_not_an_error(redis_client):
    key = keys.config(name="festival")
    cache.set(key, {"ok": True})
    raw = redis_client.get("guelaguetza:config:festival")
    redis_client.set("guelaguetza:config:festival", raw.partition(b"\n")[0] + b"\n{broken")
    assert cache.wrap(key, lambda: {"ok": "reloaded"}) == {"ok": "reloaded"}


def test_disabled_cache_always_loads(settings, redis_client):
    settings.CACHE_ENABLED = False
    load = Loader(1)
    key = keys.badges_all()
    assert cache.wrap(key, load) == cache.wrap(key, load) == 1
    assert load.calls == 2
    cache.set(key, 2)
    assert cache.get(key, "off") == "off"
    assert redis_client.dbsize() == 0


@pytest.mark.django_db
def test_in_a_plain_db_test_the_testcase_transaction_counts_as_autocommit():
    # Apps' `db` tests rely on this: invalidation runs at once, reads use the cache.
    key = keys.user_stats(user_id="u4")
    cache.set(key, 1)
    cache.delete(key)
    assert cache.get(key) is None
    assert cache.wrap(key, lambda: 2) == 2
    assert cache.get(key) == 2


def test_cascade_normalises_ids_like_the_key_builders():
    key = keys.experience_detail(experience_id=42)
    cache.set(key, 1)
    cache.cascade("rating_changed", experience_id=42)
    assert cache.get(key) is None
