"""The ops commands: cache_tree, cache_invalidate, cache_stats."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from guelaguetza.cache import FAMILIES, cache, keys


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_cache_tree_lists_families_ttls_live_counts_and_the_map():
    cache.set(keys.user_stats(user_id="a"), 1)
    cache.set(keys.user_stats(user_id="b"), 1)
    out = run("cache_tree")
    for family in FAMILIES.values():
        assert family.template in out
    line = next(x for x in out.splitlines() if x.startswith("user_stats "))
    assert line.split()[:4] == ["user_stats", "gamification", "60s", "2"]
    assert "stats_created" in out and "leaderboard:page:*" in out


def test_cache_invalidate_prefix_bumps_the_generation_without_scanning():
    page = keys.leaderboard_page(page=1, limit=20)
    other = keys.user_stats(user_id="u1")
    cache.set(page, 1)
    cache.set(other, 2)
    out = run("cache_invalidate", "leaderboard:*")
    assert "O(1)" in out and "scan" not in out.replace("no scan", "")
    assert (cache.get(page), cache.get(other)) == (None, 2)


def test_cache_invalidate_exact_key():
    key = keys.event_detail(event_id="e1")
    cache.set(key, 1)
    run("cache_invalidate", "event:e1:detail")
    assert cache.get(key) is None


def test_cache_invalidate_exact_key_with_a_search_term_clears_that_key():
    key = keys.experiences_list(
        category=None, min_price=None, max_price=None, date=None, q="Mole Negro", page=1, limit=10
    )
    cache.set(key, 1)
    run("cache_invalidate", str(key))
    assert cache.get(key) is None


def test_cache_invalidate_glob_scans_and_unlinks_only_matches(redis_client):
    for u in range(30):
        cache.set(keys.user_stats(user_id=f"u{u}"), 1)
    cache.set(keys.user_rank(user_id="u1"), 1)
    out = run("cache_invalidate", "user:*:stats", "--batch", "7")
    assert "matched 30" in out and "done: 30 keys unlinked" in out
    assert not list(redis_client.scan_iter("guelaguetza:user:*:stats"))
    assert cache.get(keys.user_rank(user_id="u1")) == 1


def test_cache_invalidate_dry_run_deletes_nothing():
    cache.set(keys.user_stats(user_id="u1"), 1)
    out = run("cache_invalidate", "user:*:stats", "--dry-run")
    assert "done: 1 keys matched" in out
    assert cache.get(keys.user_stats(user_id="u1")) == 1


def test_cache_invalidate_rejects_what_is_not_in_the_tree():
    with pytest.raises(CommandError):
        run("cache_invalidate", "nothing:here")


def test_cache_stats_prints_every_service_with_its_hit_rate():
    key = keys.experience_detail(experience_id="x1")
    cache.wrap(key, lambda: 1)
    cache.wrap(key, lambda: 1)
    out = run("cache_stats")
    for service in ("gamification", "events", "experiences", "total"):
        assert any(line.startswith(service) for line in out.splitlines())
    assert "%" in out and "keys in the cache's Redis DB:" in out
