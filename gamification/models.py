"""Gamification: a user's XP and streak (UserStats), the badge catalogue, unlocked badges.

The stored ``level`` is informational only (docs/api.md#levels): responses recompute it from xp.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from guelaguetza.models import IdField


class BadgeCategory(models.TextChoices):
    # Declaration order is the display order (docs/api.md#enums): keep it, sort by CATEGORY_RANK.
    STORIES = "STORIES"
    SOCIAL = "SOCIAL"
    ENGAGEMENT = "ENGAGEMENT"
    STREAK = "STREAK"
    SPECIAL = "SPECIAL"


CATEGORY_RANK: dict[str, int] = {c.value: i for i, c in enumerate(BadgeCategory)}


class UserStats(models.Model):
    """One row per user that has played. The user is the primary key: a stats row is
    looked up only by user, and the leaderboard's tie-break is the user id."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="stats"
    )
    xp = models.IntegerField(default=0)
    level = models.IntegerField(default=1)
    current_streak = models.IntegerField(default=0)
    longest_streak = models.IntegerField(default=0)
    last_visit_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "user stats"
        constraints = [
            models.CheckConstraint(condition=Q(xp__gte=0), name="gam_stats_xp_non_negative"),
            models.CheckConstraint(
                condition=Q(current_streak__gte=0, longest_streak__gte=0),
                name="gam_stats_streaks_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=15), name="gam_stats_level_range"
            ),
        ]
        indexes = [
            # The leaderboard order (xp desc, user id asc) read straight off the index,
            # and a rank is COUNT(xp > X): an index-only range scan of the entries above
            # X, never a scan of the whole table (see selectors.rank_for_xp).
            models.Index(fields=["-xp", "user"], name="gam_stats_xp_desc_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.xp} XP"


class Badge(models.Model):
    id = IdField()
    code = models.CharField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300)
    icon = models.CharField(max_length=20)
    category = models.CharField(max_length=12, choices=BadgeCategory.choices)
    xp_reward = models.IntegerField(default=0)
    threshold = models.IntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(xp_reward__gte=0), name="gam_badge_xp_non_negative"),
            models.CheckConstraint(
                condition=Q(threshold__gte=0), name="gam_badge_threshold_nonneg"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class UserBadge(models.Model):
    id = IdField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="user_badges"
    )
    badge = models.ForeignKey(Badge, on_delete=models.CASCADE, related_name="holders")
    unlocked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Each award exactly once: concurrent awards meet here (badge_award get-or-create).
            models.UniqueConstraint(
                fields=["user", "badge"], name="gam_userbadge_user_badge_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.badge_id}"
