"""A profile change (nombre, avatar) clears the leaderboard and the user's keys."""

import pytest
from django.db.models.signals import post_delete, post_save

from accounts import signals
from accounts.models import User
from accounts.services import profile_update
from guelaguetza.cache import cache, keys
from tests.factories import UserFactory


def test_user_receivers_are_connected():
    assert any(r[0][0] == "accounts.user_saved" for r in post_save.receivers)
    assert any(r[0][0] == "accounts.user_deleted" for r in post_delete.receivers)
    assert post_save.has_listeners(User) and post_delete.has_listeners(User)
    assert signals.user_saved  # the receiver module is what apps.py connects


@pytest.mark.django_db(transaction=True)
def test_profile_change_makes_leaderboard_and_user_keys_fresh():
    user = UserFactory()
    board = keys.leaderboard_page(page=1, limit=10)
    stats = keys.user_stats(user_id=user.id)
    cache.set(board, {"v": "old"})
    cache.set(stats, {"v": "old"})

    profile_update(user=user, data={"region": "Costa"})  # not a cached field
    assert cache.get(board) == {"v": "old"}

    profile_update(user=user, data={"nombre": "Nuevo Nombre"})
    assert cache.get(board) is None
    assert cache.get(stats) is None


@pytest.mark.django_db(transaction=True)
def test_password_change_does_not_clear_caches():
    user = UserFactory()
    board = keys.leaderboard_page(page=1, limit=10)
    cache.set(board, {"v": "old"})
    user.set_password("otra-clave")
    user.save(update_fields=["password"])
    assert cache.get(board) == {"v": "old"}
