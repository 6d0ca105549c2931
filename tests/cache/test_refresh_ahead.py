"""Refresh-ahead (XFetch): near its expiry a hot key is recomputed by one caller while
the others keep the still valid value; a key far from expiry never is."""

import threading

import pytest

from guelaguetza.cache import cache, keys
from guelaguetza.cache.codec import Entry
from guelaguetza.cache.flight import refresh_due

KEY = keys.leaderboard_page(page=1, limit=20)


@pytest.fixture(autouse=True)
def _refresh_ahead_on(settings):
    """The project's default (tests/settings.py turns it off for every other test)."""
    settings.CACHE_REFRESH_AHEAD_BETA = 1.0


def entry(expires_ms: float, delta_ms: int = 5) -> Entry:
    return Entry(b"{}", "e", int(expires_ms), delta_ms, b"-")


def test_due_grows_towards_expiry_and_never_far_from_it(settings):
    settings.CACHE_REFRESH_AHEAD_MIN_MS = 1000
    now = 1_000_000_000.0
    far = sum(refresh_due(entry(now + 60_000), now) for _ in range(2000))
    near = sum(refresh_due(entry(now + 500), now) for _ in range(2000))
    past = sum(refresh_due(entry(now - 1), now) for _ in range(50))
    # P(due) = exp(-remaining / delta): e^-60 (never), e^-0.5 (about 61 %), 1.
    assert far == 0 and 1000 < near < 1400 and past == 50


def test_beta_zero_turns_it_off(settings):
    settings.CACHE_REFRESH_AHEAD_BETA = 0
    assert not refresh_due(entry(0))


@pytest.mark.django_db
def test_a_due_hit_recomputes_once_and_stores_the_new_value(settings):
    cache.wrap(KEY, lambda: {"v": 1})
    settings.CACHE_REFRESH_AHEAD_MIN_MS = 10**12  # every hit is due
    assert cache.wrap(KEY, lambda: {"v": 2}) == {"v": 2}
    settings.CACHE_REFRESH_AHEAD_BETA = 0
    assert cache.get(KEY) == {"v": 2}


@pytest.mark.django_db
def test_while_one_caller_refreshes_the_others_keep_the_valid_value(settings):
    cache.wrap(KEY, lambda: {"v": 1})
    settings.CACHE_REFRESH_AHEAD_MIN_MS = 10**12
    started, release = threading.Event(), threading.Event()
    loads = []

    def slow_loader():
        loads.append(1)
        started.set()
        assert release.wait(10)
        return {"v": 2}

    results = []
    leader = threading.Thread(target=lambda: results.append(cache.wrap(KEY, slow_loader)))
    leader.start()
    assert started.wait(10)
    # The lock is held by the refresher: these callers are served the old value at once.
    others = [cache.wrap(KEY, slow_loader) for _ in range(5)]
    release.set()
    leader.join(10)
    assert others == [{"v": 1}] * 5 and results == [{"v": 2}] and len(loads) == 1


@pytest.mark.django_db
def test_the_hit_path_leaves_a_due_key_to_the_view(api_client, settings):
    from gamification.models import UserStats
    from tests.factories import UserFactory, UserStatsFactory

    UserStatsFactory(xp=10)
    url = "/api/gamification/leaderboard?page=1&limit=20"
    api_client.get(url)
    # bulk_create fires no signal: nothing invalidates the cached page...
    UserStats.objects.bulk_create([UserStats(user=UserFactory(), xp=20)])
    assert len(api_client.get(url).json()["data"]["entries"]) == 1
    settings.CACHE_REFRESH_AHEAD_MIN_MS = 10**12
    entries = api_client.get(url).json()["data"]["entries"]
    assert [e["xp"] for e in entries] == [20, 10]  # ...the refresh recomputed it


@pytest.mark.django_db
def test_a_stored_value_looks_ahead_by_a_fraction_of_its_ttl(settings, redis_client):
    settings.CACHE_TTL_JITTER = 0
    settings.CACHE_REFRESH_AHEAD_FRACTION = 0.1
    cache.wrap(KEY, lambda: {"v": 1}, ttl=60)
    stored = cache.entry(KEY, lambda: {"v": 2})
    assert stored.delta_ms == 6000  # 10 % of 60 s, the loader itself took far less
