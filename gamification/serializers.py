"""Input rules (the leaderboard's query, a guelaguetza.api.query declaration) and the
JSON payloads of docs/api.md#shapes (UserStats, Badge, LeaderboardEntry).

Payload builders are plain functions: selectors cache their output, so a cache hit costs
no serializer work.
"""

from __future__ import annotations

from gamification.levels import level_for, xp_for_next_level, xp_progress
from gamification.models import Badge
from guelaguetza.api.formats import iso
from guelaguetza.api.query import Int, Query

# Digits only: "2.0", " 2" and "+2" are not the positive integers
# docs/api.md#get-gamification-leaderboard asks for, and an empty ``?page=`` is bad input,
# not a request for the default.
_INTEGER = "Debe ser un número entero."
LEADERBOARD_QUERY = Query(
    Int("page", default=1, maximum=999_999_999, invalid=_INTEGER),  # 9 digits
    Int("limit", default=20, maximum=100, invalid=_INTEGER),
)


def stats_payload(*, xp: int, current_streak: int, longest_streak: int) -> dict:
    """The 6-field stats object (without rank); the level is recomputed from xp."""
    level = level_for(xp)
    return {
        "xp": xp,
        "level": level,
        "xpForNextLevel": xp_for_next_level(level),
        "xpProgress": xp_progress(xp),
        "currentStreak": current_streak,
        "longestStreak": longest_streak,
    }


def badge_payload(badge: Badge) -> dict:
    """A catalogue row, as stored under badges:all (no per-user fields)."""
    return {
        "id": badge.id,
        "code": badge.code,
        "name": badge.name,
        "description": badge.description,
        "icon": badge.icon,
        "category": badge.category,
        "xpReward": badge.xp_reward,
        "threshold": badge.threshold,
    }


def user_badge_payload(badge: dict, unlocked_at: str | None) -> dict:
    """A Badge for one user: ``unlockedAt`` only when unlocked (docs/api.md#shape-badge)."""
    out = dict(badge)
    if unlocked_at is not None:
        out["unlockedAt"] = unlocked_at
    out["isUnlocked"] = unlocked_at is not None
    return out


def new_badge_payload(badge: Badge) -> dict:
    """A badge just awarded at check-in (badges_evaluate sets ``unlocked_at`` on it)."""
    return user_badge_payload(badge_payload(badge), iso(getattr(badge, "unlocked_at", None)))
