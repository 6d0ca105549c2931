"""The stale-set race, replayed deterministically (docs/cache.md#stale-set-race).

A reader misses and loads the old row; a writer commits and its invalidation runs (in
on_commit, for real); only then does the reader store what it loaded. Threading events
fix that order. The next read must be fresh: the late value is dead on arrival because
it carries the generations read before loading.
"""

import threading

import pytest
from django.db import connections, transaction

from guelaguetza.cache import cache, keys

WAIT = 10  # seconds; only a broken test ever waits this long


def race(key, invalidate) -> None:
    db = {"value": "old"}
    loaded, stored_late = threading.Event(), threading.Event()
    proceed = threading.Event()
    errors = []

    def loader():
        snapshot = db["value"]  # the reader reads the database before the write...
        loaded.set()
        assert proceed.wait(WAIT)  # ...and is descheduled until the writer is done
        return snapshot

    def reader():
        try:
            assert cache.wrap(key, loader) == "old"
            stored_late.set()
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=reader)
    thread.start()
    assert loaded.wait(WAIT)
    with transaction.atomic():  # the writer: a committed write that invalidates
        db["value"] = "new"
        invalidate()
    proceed.set()
    thread.join(WAIT)
    assert not errors and stored_late.is_set()
    assert cache.get(key) is None
    assert cache.wrap(key, lambda: db["value"]) == "new"


@pytest.mark.django_db(transaction=True)
def test_stale_set_race_with_pattern_invalidation_leaves_the_next_read_fresh():
    race(keys.leaderboard_page(page=1, limit=20), lambda: cache.invalidate("leaderboard:*"))


@pytest.mark.django_db(transaction=True)
def test_stale_set_race_with_direct_delete_leaves_the_next_read_fresh():
    key = keys.user_stats(user_id="u1")
    race(key, lambda: cache.delete(key))


@pytest.mark.django_db(transaction=True)
def test_stale_set_race_with_cascade_leaves_the_next_read_fresh():
    key = keys.experience_detail(experience_id="x1")
    race(key, lambda: cache.cascade("rating_changed", experience_id="x1"))
