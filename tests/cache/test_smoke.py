import pytest
from django.db import transaction

from guelaguetza.cache import cache, keys


def test_wrap_miss_then_hit():
    calls = []
    key = keys.user_stats(user_id="u1")
    assert key == "user:u1:stats"
    assert cache.wrap(key, lambda: calls.append(1) or {"xp": 10}) == {"xp": 10}
    assert cache.wrap(key, lambda: calls.append(1) or {"xp": 99}) == {"xp": 10}
    assert calls == [1]


def test_invalidate_namespace_makes_next_read_fresh():
    key = keys.leaderboard_page(page=1, limit=20)
    cache.wrap(key, lambda: ["old"])
    cache.invalidate("leaderboard:*")
    assert cache.wrap(key, lambda: ["new"]) == ["new"]


@pytest.mark.django_db(transaction=True)
def test_rollback_invalidates_nothing():
    key = keys.user_stats(user_id="u2")
    cache.wrap(key, lambda: 1)
    with pytest.raises(RuntimeError), transaction.atomic():
        cache.delete(key)
        raise RuntimeError
    assert cache.get(key) == 1
    with transaction.atomic():
        cache.delete(key)
        assert cache.get(key) == 1  # not before commit
    assert cache.get(key) is None
