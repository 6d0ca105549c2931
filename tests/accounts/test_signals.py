"""A profile change (nombre, avatar) clears the leaderboard and the user's keys."""

import pytest

from accounts.services import profile_update
from guelaguetza.cache import cache, keys
from tests.factories import UserFactory, UserStatsFactory


@pytest.mark.django_db(transaction=True)
def test_profile_change_clears_only_the_leaderboard_page_that_shows_the_user(settings):
    settings.CACHE_LEADERBOARD_BAND = 1  # one position per band: pages 1 and 3 apart
    first, _, _ = (UserStatsFactory(xp=xp).user for xp in (30, 20, 10))
    shows_first = keys.leaderboard_page(page=1, limit=1)
    shows_third = keys.leaderboard_page(page=3, limit=1)
    stats = keys.user_stats(user_id=first.id)
    for key in (shows_first, shows_third, stats):
        cache.set(key, {"v": "old"})

    profile_update(user=first, data={"region": "Costa"})  # not a cached field
    assert cache.get(shows_first) == {"v": "old"}

    profile_update(user=first, data={"nombre": "Nuevo Nombre"})
    assert cache.get(shows_first) is None
    # Neither the page of another user nor the user's stats show the name.
    assert cache.get(shows_third) == {"v": "old"}
    assert cache.get(stats) == {"v": "old"}


@pytest.mark.django_db(transaction=True)
def test_password_change_does_not_clear_caches():
    user = UserFactory()
    board = keys.leaderboard_page(page=1, limit=10)
    cache.set(board, {"v": "old"})
    user.set_password("otra-clave")
    user.save(update_fields=["password"])
    assert cache.get(board) == {"v": "old"}
