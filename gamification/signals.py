"""Cache invalidation receivers (DESIGN.md invalidation map), connected in apps.py.

They only compute ids and call the cache layer, which defers to on_commit. Business
effects (XP, badges) are explicit service calls, never receivers.
"""

from __future__ import annotations

from guelaguetza.cache import cache

# A profile field the leaderboard shows; other saves (last_login, password) leave it.
LEADERBOARD_USER_FIELDS = frozenset({"nombre", "avatar"})


def stats_changed(sender, instance, **kwargs) -> None:
    """UserStats saved or deleted: the user's stats and rank and every leaderboard page."""
    cache.cascade("xp_changed", user_id=instance.user_id)


def user_badge_changed(sender, instance, **kwargs) -> None:
    cache.cascade("user_badges_changed", user_id=instance.user_id)


def badge_changed(sender, instance, **kwargs) -> None:
    """A catalogue edit: badges:all and, through the ``badges`` generation, every
    user:{id}:badges (each is built from the catalogue)."""
    cache.cascade("badge_catalogue_changed")


def user_profile_changed(sender, instance, created=False, update_fields=None, **kwargs) -> None:
    """Leaderboard entries carry nombre and avatar: a profile edit clears the pages.
    A new user has no stats row yet, so is on no page."""
    if created:
        return
    if update_fields is not None and not (set(update_fields) & LEADERBOARD_USER_FIELDS):
        return
    cache.invalidate("leaderboard:*")
