"""Input validation and the JSON payloads of docs/api.md#shapes (UserStats, Badge,
LeaderboardEntry).

Payload builders are plain functions: selectors cache their output, so a cache hit costs
no serializer work.
"""

from __future__ import annotations

import re

from rest_framework import serializers

from gamification.levels import level_for, xp_for_next_level, xp_progress
from gamification.models import Badge
from guelaguetza.api.formats import iso


class StrictIntegerField(serializers.IntegerField):
    """Digits only: DRF's IntegerField also takes "2.0" and " 2", which are not the
    positive integers docs/api.md#get-gamification-leaderboard asks for."""

    default_error_messages = {"invalid": "Debe ser un número entero."}

    def get_value(self, dictionary):
        # An empty ``?page=`` is bad input, not a request for the default.
        if self.field_name in dictionary:
            return dictionary.get(self.field_name)
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not re.fullmatch(r"\d{1,9}", str(data)):
            self.fail("invalid")
        return super().to_internal_value(data)


class LeaderboardQuerySerializer(serializers.Serializer):
    page = StrictIntegerField(min_value=1, max_value=999_999_999, default=1)  # 9 digits
    limit = StrictIntegerField(min_value=1, max_value=100, default=20)


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
