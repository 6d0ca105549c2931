"""Leaderboard pages are invalidated by position band, not all at once.

An XP change moves only the rows whose xp lies between the old and the new value; the
service invalidates the bands of their positions (registry.leaderboard_band_namespaces),
after commit. These tests use tiny bands (2 positions, 6 of them before "deep") so a
board of a dozen users spans every case, and compare every cached page with a fresh
read from PostgreSQL after real, committed changes: sequential, then from threads
racing readers that fill the cache while the writers commit.
"""

import random
import threading

import pytest
from django.db import connection

from gamification import selectors, services
from gamification.models import UserStats
from guelaguetza.cache import cache, keys
from guelaguetza.cache.registry import leaderboard_band_namespaces, namespace_of
from tests.factories import UserFactory, UserStatsFactory

# Page shapes a client may ask for: several limits, pages inside and past the top.
PAGES = [(p, 2) for p in range(1, 8)] + [(p, 5) for p in range(1, 4)] + [(1, 100), (9, 2)]


@pytest.fixture
def small_bands(settings):
    settings.CACHE_LEADERBOARD_BAND = 2
    settings.CACHE_LEADERBOARD_TOP = 6


def board(xps: list[int]) -> list:
    return [UserStatsFactory(user=UserFactory(), xp=xp).user for xp in xps]


def fresh(page: int, limit: int) -> dict:
    return selectors._leaderboard_load(page, limit)


def cached(page: int, limit: int):
    return cache.get(keys.leaderboard_page(page=page, limit=limit))


def fill_cache() -> None:
    for page, limit in PAGES:
        selectors.leaderboard_page(page=page, limit=limit)


def assert_every_cached_page_is_fresh() -> int:
    """Each page still cached equals what PostgreSQL says now; returns how many were."""
    still = 0
    for page, limit in PAGES:
        value = cached(page, limit)
        if value is not None:
            assert value == fresh(page, limit), (page, limit)
            still += 1
    return still


# -- the band arithmetic -------------------------------------------------------------------
def test_bands_of_a_run_of_positions(small_bands):
    assert leaderboard_band_namespaces(1, 1) == ("leaderboard:band:0",)
    assert leaderboard_band_namespaces(2, 3) == ("leaderboard:band:0", "leaderboard:band:1")
    assert leaderboard_band_namespaces(5, 9) == ("leaderboard:band:2", "leaderboard:deep")
    assert leaderboard_band_namespaces(7, 9) == ("leaderboard:deep",)


def test_a_page_carries_the_bands_of_its_positions(small_bands):
    assert keys.leaderboard_page(page=1, limit=2).namespaces == (
        "leaderboard",
        "leaderboard:page",
        "leaderboard:band:0",
        "leaderboard:page:1:limit:2",
    )
    assert keys.leaderboard_page(page=2, limit=5).namespaces[2:-1] == (
        "leaderboard:band:2",
        "leaderboard:deep",
    )


def test_default_bands_are_one_default_page_down_to_5000():
    # 20 positions, the API's default limit: a move clears the page it shows on, and
    # the page of a limit-20 board a change did not reach keeps its value.
    assert keys.leaderboard_page(page=1, limit=20).namespaces[2:-1] == ("leaderboard:band:0",)
    assert keys.leaderboard_page(page=2, limit=20).namespaces[2:-1] == ("leaderboard:band:1",)
    assert keys.leaderboard_page(page=3, limit=50).namespaces[2:-1] == tuple(
        f"leaderboard:band:{b}" for b in (5, 6, 7)
    )
    assert keys.leaderboard_page(page=50, limit=100).namespaces[2:-1] == tuple(
        f"leaderboard:band:{b}" for b in range(245, 250)
    )
    assert keys.leaderboard_page(page=51, limit=100).namespaces[2:-1] == ("leaderboard:deep",)


# -- real changes, committed ---------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_move_far_down_leaves_the_top_pages_cached(small_bands, django_assert_num_queries):
    users = board([100, 90, 80, 70, 60, 50, 40, 30, 20, 10])
    fill_cache()
    services.xp_add(user=users[-1], amount=15, reason="test")  # 10 -> 25: positions 8-10
    with django_assert_num_queries(0):
        top = selectors.leaderboard_page(page=1, limit=2)
    assert [e["xp"] for e in top["entries"]] == [100, 90]
    assert cached(4, 2) is None  # positions 7-8: in the deep band the move touched
    assert [e["xp"] for e in selectors.leaderboard_page(page=5, limit=2)["entries"]] == [25, 20]
    assert assert_every_cached_page_is_fresh() > 0


@pytest.mark.django_db(transaction=True)
def test_a_move_to_the_top_refreshes_every_page_it_passed(small_bands):
    users = board([100, 90, 80, 70, 60, 50])
    fill_cache()
    services.xp_add(user=users[-1], amount=60, reason="test")  # 50 -> 110: first place
    entries = selectors.leaderboard_page(page=1, limit=5)["entries"]
    assert [(e["userId"], e["rank"]) for e in entries[:2]] == [(users[-1].pk, 1), (users[0].pk, 2)]
    assert_every_cached_page_is_fresh()


@pytest.mark.django_db(transaction=True)
def test_leaving_a_tie_changes_the_rank_of_those_left_behind(small_bands):
    # Ranks are competition ranks: the three at 50 share rank 2; when one of them gains
    # XP, the other two become rank 3 although their positions may not move.
    users = board([100, 50, 50, 50, 10])
    fill_cache()
    mover = sorted(users[1:4], key=lambda u: u.pk)[0]  # first of the tie on the board
    services.xp_add(user=mover, amount=5, reason="test")
    assert_every_cached_page_is_fresh()
    ranks = [e["rank"] for e in selectors.leaderboard_page(page=1, limit=100)["entries"]]
    assert ranks == [1, 2, 3, 3, 5]


@pytest.mark.django_db(transaction=True)
def test_random_moves_never_leave_a_stale_page(small_bands):
    rng = random.Random(7)
    users = board([rng.randrange(0, 60, 5) for _ in range(14)])
    for _ in range(25):
        fill_cache()
        services.xp_add(user=rng.choice(users), amount=rng.choice([5, 10, 30]), reason="test")
        assert_every_cached_page_is_fresh()
    # Bands spare pages: some stayed cached across moves (else this is leaderboard:*).
    fill_cache()
    services.xp_add(user=min(users, key=lambda u: UserStats.objects.get(user=u).xp), amount=5,
                    reason="test")  # fmt: skip
    assert assert_every_cached_page_is_fresh() > 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_moves_and_readers_leave_no_stale_page(small_bands):
    """Writers commit XP moves from threads (their own connections and transactions)
    while readers keep loading pages into the cache; once all have committed, no page
    in the cache differs from PostgreSQL."""
    rng = random.Random(11)
    users = board([rng.randrange(0, 80, 5) for _ in range(16)])
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        r = random.Random(seed)
        try:
            for _ in range(12):
                services.xp_add(user=r.choice(users), amount=r.choice([5, 10, 25]), reason="t")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def reader(seed: int) -> None:
        r = random.Random(seed)
        try:
            while not stop.is_set():
                page, limit = r.choice(PAGES)
                selectors.leaderboard_page(page=page, limit=limit)
            # One pass over every page once the writes are done: a page cached stale
            # during them is served as it is (and caught below), a missing one is
            # loaded now; so every page is checked, whatever the interleaving was.
            for page, limit in PAGES:
                selectors.leaderboard_page(page=page, limit=limit)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    readers = [threading.Thread(target=reader, args=(i,)) for i in range(3)]
    writers = [threading.Thread(target=writer, args=(100 + i,)) for i in range(4)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert not errors, errors
    assert assert_every_cached_page_is_fresh() == len(PAGES)


@pytest.mark.django_db(transaction=True)
def test_a_move_committed_between_count_and_commit_is_covered(small_bands, monkeypatch):
    """The interleaving the threads above rarely hit, forced: A (40 -> 45) counts its run
    (position 2), then B (30 -> 60) commits and pushes A to position 3, a reader caches
    positions 3-4 while A is still open, and A commits. The recount after A's commit
    sees A at position 3, so that page is invalidated too."""
    _, a, b, _ = board([100, 40, 30, 20])
    counted, release = threading.Event(), threading.Event()
    count = services._leaderboard_run

    def pausing_count(**kwargs):
        run = count(**kwargs)
        if threading.current_thread().name == "A" and not counted.is_set():
            counted.set()
            assert release.wait(10)
        return run

    monkeypatch.setattr(services, "_leaderboard_run", pausing_count)

    def move_a() -> None:
        try:
            services.xp_add(user=a, amount=5, reason="test")
        finally:
            connection.close()

    thread = threading.Thread(target=move_a, name="A")
    thread.start()
    assert counted.wait(10)
    services.xp_add(user=b, amount=30, reason="test")
    between = selectors.leaderboard_page(page=2, limit=2)["entries"]
    assert [(e["xp"], e["rank"]) for e in between] == [(40, 3), (20, 4)]
    release.set()
    thread.join()
    assert cached(2, 2) is None
    assert [e["xp"] for e in selectors.leaderboard_page(page=2, limit=2)["entries"]] == [45, 20]


def test_every_tag_is_a_namespace_the_tree_accepts(small_bands):
    for page, limit in PAGES:
        for ns in keys.leaderboard_page(page=page, limit=limit).namespaces:
            assert namespace_of(f"{ns}:*") == ns


def test_bands_when_the_band_does_not_divide_the_top(settings):
    settings.CACHE_LEADERBOARD_BAND = 3
    settings.CACHE_LEADERBOARD_TOP = 5
    assert leaderboard_band_namespaces(4, 5) == ("leaderboard:band:1",)
    assert leaderboard_band_namespaces(6, 8) == ("leaderboard:deep",)
    assert leaderboard_band_namespaces(5, 6) == ("leaderboard:band:1", "leaderboard:deep")
