"""Stampede protection: one loader per missing key, the lock released on failure."""

import threading

import pytest
from django.db import connections

from guelaguetza.cache import cache, keys

THREADS = 50


def test_fifty_threads_missing_the_same_key_run_the_loader_once(settings):
    settings.CACHE_LOCK_WAIT_MS = 10_000  # only a dead leader would make them wait this long
    key = keys.leaderboard_page(page=1, limit=50)
    calls = []
    barrier = threading.Barrier(THREADS)
    results, errors = [], []
    proceed = threading.Event()

    def loader():
        calls.append(1)
        proceed.wait(0.3)  # a slow query: every other thread arrives meanwhile
        return {"page": 1}

    def worker():
        try:
            barrier.wait(10)
            results.append(cache.wrap(key, loader))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert results == [{"page": 1}] * THREADS
    assert 1 <= len(calls) <= 2


def test_a_raising_loader_releases_the_lock_and_a_waiter_takes_over(redis_client, settings):
    settings.CACHE_LOCK_WAIT_MS = 10_000  # the waiter must not just time out
    key = keys.event_detail(event_id="e1")
    lock = "guelaguetza:lock:" + key
    leader_loading, waiter_waiting = threading.Event(), threading.Event()
    seen = {}

    def failing_loader():
        leader_loading.set()
        assert waiter_waiting.wait(10)
        raise RuntimeError("database down")

    def waiter_loader():
        seen["lock_held_by_waiter"] = redis_client.get(lock) is not None
        return {"id": "e1"}

    def waiter():
        assert leader_loading.wait(10)
        waiter_waiting.set()
        seen["value"] = cache.wrap(key, waiter_loader)
        connections.close_all()

    thread = threading.Thread(target=waiter)
    thread.start()
    with pytest.raises(RuntimeError):
        cache.wrap(key, failing_loader)
    thread.join(15)
    assert seen == {"lock_held_by_waiter": True, "value": {"id": "e1"}}
    assert redis_client.exists(lock) == 0
    assert cache.get(key) == {"id": "e1"}


def test_a_waiter_loads_itself_after_the_wait_and_leaves_a_foreign_lock(redis_client, settings):
    settings.CACHE_LOCK_WAIT_MS = 30
    key = keys.user_stats(user_id="u1")
    lock = "guelaguetza:lock:" + key
    redis_client.set(lock, b"someone-else", px=5000)  # a holder that never finishes
    assert cache.wrap(key, lambda: {"xp": 5}) == {"xp": 5}
    assert redis_client.get(lock) == b"someone-else"  # compare-and-delete: not ours


def test_the_lock_expires_by_itself(redis_client, settings):
    settings.CACHE_LOCK_TTL_MS = 1500
    key = keys.user_rank(user_id="u1")
    seen = {}

    def loader():
        seen["pttl"] = redis_client.pttl("guelaguetza:lock:" + key)
        return 1

    cache.wrap(key, loader)
    assert 0 < seen["pttl"] <= 1500
    assert redis_client.exists("guelaguetza:lock:" + key) == 0


def test_a_value_that_is_not_json_raises_and_releases_the_lock(redis_client):
    key = keys.config(name="bad")
    with pytest.raises(TypeError):
        cache.wrap(key, lambda: {"when": object()})
    assert redis_client.exists("guelaguetza:lock:" + key) == 0
    assert cache.wrap(key, lambda: {"ok": 1}) == {"ok": 1}
