"""Cache invalidation receivers (DESIGN.md invalidation map), connected in apps.py.

They only compute ids and call the cache layer, which defers to on_commit. Business
effects (XP, badges) are explicit service calls, never receivers. A profile edit
(nombre, avatar on leaderboard entries) is cleared by accounts.signals (profile_changed).
"""

from __future__ import annotations

from guelaguetza.cache import cache


def stats_changed(sender, instance, **kwargs) -> None:
    """UserStats saved or deleted: the user's stats and rank and every leaderboard page."""
    cache.cascade("xp_changed", user_id=instance.user_id)


def user_badge_changed(sender, instance, **kwargs) -> None:
    cache.cascade("user_badges_changed", user_id=instance.user_id)


def badge_changed(sender, instance, **kwargs) -> None:
    """A catalogue edit: badges:all and, through the ``badges`` generation, every
    user:{id}:badges (each is built from the catalogue)."""
    cache.cascade("badge_catalogue_changed")
