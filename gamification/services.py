"""Writes of the gamification app: the single path for XP, badges and check-ins.

Other apps earn XP and badges through :func:`rewards_after_commit`, an explicit call
made with their own write (contract: RSVP, booking completion, review), never from a
receiver.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from typing import TYPE_CHECKING

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone

from gamification.catalogue import CATEGORY_FALLBACK_METRIC, RULE_METRIC
from gamification.levels import THRESHOLDS
from gamification.models import CATEGORY_RANK, Badge, UserBadge, UserStats
from guelaguetza.cache import cache, invalidation, leaderboard_band_patterns
from guelaguetza.cache.registry import rank_bucket_patterns

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

CHECKIN_XP = 10
BOOKING_COMPLETED_XP = 50


# -- clock -----------------------------------------------------------------------------
def festival_today(now: dt.datetime | None = None) -> dt.date:
    """Today's calendar date in settings.FESTIVAL_TIME_ZONE [F8] (``now`` for tests)."""
    now = now or timezone.now()
    return now.astimezone(zoneinfo.ZoneInfo(settings.FESTIVAL_TIME_ZONE)).date()


# -- XP --------------------------------------------------------------------------------
def _level_after_adding(amount: int) -> Case:
    """The level column for ``xp + amount``, computed by the same UPDATE from the row's
    old xp (``xp + amount >= T[i]`` is ``xp >= T[i] - amount``)."""
    whens = [
        When(xp__gte=threshold - amount, then=Value(i + 1))
        for i, threshold in reversed(list(enumerate(THRESHOLDS)))
    ]
    return Case(*whens, default=Value(1))


def stats_ensure(*, user: User) -> UserStats:
    """The user's stats row, created with zeros when missing (safe under concurrency:
    get_or_create meets the primary key and re-reads the winner's row)."""
    stats, _ = UserStats.objects.get_or_create(user=user)
    return stats


def xp_add(*, user: User, amount: int, reason: str) -> UserStats:
    """Add ``amount`` XP to ``user``: the single path for every XP change [F6].

    One atomic ``UPDATE xp = xp + n, level = <level of xp + n>``: no read-modify-write, so
    concurrent awards never lose each other. Invalidates user:{id}:stats, user:{id}:rank
    and the leaderboard pages whose rows moved after commit [F3].
    """
    if amount < 0:
        raise ValueError("xp_add only adds XP")
    with transaction.atomic():
        stats_ensure(user=user)
        if amount:
            UserStats.objects.filter(user=user).update(
                xp=F("xp") + amount, level=_level_after_adding(amount), updated_at=timezone.now()
            )
        stats = UserStats.objects.get(user=user)
        if amount:
            # QuerySet.update() fires no post_save: invalidate what an XP change clears.
            cache.cascade("xp_added", user_id=user.pk)
            _leaderboard_rows_moved(low_xp=stats.xp - amount, high_xp=stats.xp)
            # The ranks of the users it passed: those with xp in [old, new).
            for pattern in rank_bucket_patterns(stats.xp - amount, stats.xp):
                cache.invalidate(pattern)
    logger.info("xp +%s to %s (%s): now %s", amount, user.pk, reason, stats.xp)
    return stats


def _leaderboard_run(*, low_xp: int, high_xp: int) -> tuple[int, int]:
    """Positions (1-based, inclusive) of the rows with ``low_xp <= xp <= high_xp`` on the
    board (xp desc): after every row with more than ``high_xp``, through the last row
    with at least ``low_xp``. Both counts stop at CACHE_LEADERBOARD_TOP + 1 rows (bounded
    index range scans): a run that starts past the top comes back as (top + 2, top + 1),
    which is all the band arithmetic needs to know (the deep band)."""
    cap = settings.CACHE_LEADERBOARD_TOP + 1
    above = UserStats.objects.filter(xp__gt=high_xp)[:cap].count()
    through = UserStats.objects.filter(xp__gte=low_xp)[:cap].count()
    return above + 1, through


def _leaderboard_rows_moved(*, low_xp: int, high_xp: int) -> None:
    """Invalidate, after commit, the leaderboard pages over the rows whose position or
    rank a move from ``low_xp`` to ``high_xp`` changed: those with xp in that range, one
    run of positions (the mover, the rows it passed, and the ties it left, whose rank
    grew by one). Every other row keeps its place and rank, so the pages people read at
    the top stay cached while visitors far down the board check in.

    The run is counted twice: in this transaction, and again once it has committed. A
    move that commits in between can shift the run (a user passing the mover pushes it
    down a place); a page cached in that gap shows the rows at their shifted places, and
    the second count, which sees every commit before ours, covers them. The union of the
    two runs is invalidated; if the second count fails, every page is."""
    first, last = _leaderboard_run(low_xp=low_xp, high_xp=high_xp)

    def after_commit() -> None:
        try:
            again = _leaderboard_run(low_xp=low_xp, high_xp=high_xp)
        except DatabaseError:
            logger.warning("leaderboard run not recounted: clearing every page", exc_info=True)
            cache.invalidate("leaderboard:*")
            return
        for pattern in leaderboard_band_patterns(min(first, again[0]), max(last, again[1])):
            cache.invalidate(pattern)

    transaction.on_commit(after_commit, robust=True)


def leaderboard_bands_of_users(*, instance) -> list[str]:
    """The band of the leaderboard page that shows this user's name and avatar (its
    position: more xp first, ties by user id), or none when the user has no stats row."""
    row = UserStats.objects.filter(user_id=instance.pk).values("xp").first()
    if row is None:
        return []
    position = (
        UserStats.objects.filter(
            Q(xp__gt=row["xp"]) | Q(xp=row["xp"], user_id__lt=instance.pk)
        ).count()
        + 1
    )
    return leaderboard_band_patterns(position, position)


# -- badges ----------------------------------------------------------------------------
def badge_award(*, user: User, badge: Badge) -> tuple[UserBadge, bool]:
    """Award ``badge`` to ``user`` once: get-or-create on the unique (user, badge), and the
    badge's xpReward only when this call created the row, in the same transaction. Two
    concurrent awards meet at the unique constraint; the loser re-reads and adds no XP.
    The admin's grant goes through here too."""
    with transaction.atomic():
        user_badge, created = UserBadge.objects.get_or_create(user=user, badge=badge)
        if created and badge.xp_reward:
            xp_add(user=user, amount=badge.xp_reward, reason=f"badge {badge.code}")
    return user_badge, created


def _count(app_label: str, model_name: str, **filters) -> int:
    """Rows of another app's model, 0 while that model does not exist (the rule tables
    of stories, likes, comments and follows are outside this backend's scope)."""
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        return 0
    return model.objects.filter(**filters).count()


def badge_metrics(*, user: User) -> dict[str, int]:
    """The counts the award rules read (docs/api.md#badges)."""
    stats = UserStats.objects.filter(user=user).values("longest_streak").first()
    return {
        "stories": 0,
        "followers": 0,
        "likes": 0,
        "comments": 0,
        "streak": stats["longest_streak"] if stats else 0,
        "rsvps": _count("events", "EventRSVP", user=user),
        "bookings": _count("experiences", "Booking", user=user, status="COMPLETED"),
        "reviews": _count("experiences", "ExperienceReview", user=user),
    }


def _rule_metric(badge: Badge) -> str | None:
    if badge.code in RULE_METRIC:
        return RULE_METRIC[badge.code]
    return CATEGORY_FALLBACK_METRIC.get(badge.category)


def _award_order(badge: Badge) -> tuple:
    return (CATEGORY_RANK.get(badge.category, len(CATEGORY_RANK)), badge.threshold, badge.code)


def badges_evaluate(*, user: User) -> list[Badge]:
    """Award every badge whose rule now holds and the user lacks, each once with its
    xpReward (through :func:`badge_award`); return the newly awarded ones.

    Idempotent and safe under concurrency: a badge already held is skipped, and a race
    between two evaluations is settled by badge_award's get-or-create.
    """
    owned = set(UserBadge.objects.filter(user=user).values_list("badge_id", flat=True))
    candidates = [b for b in Badge.objects.exclude(pk__in=owned) if _rule_metric(b)]
    if not candidates:
        return []
    metrics = badge_metrics(user=user)
    awarded: list[Badge] = []
    for badge in sorted(candidates, key=_award_order):
        if metrics[_rule_metric(badge)] >= badge.threshold:
            user_badge, created = badge_award(user=user, badge=badge)
            if created:
                badge.unlocked_at = user_badge.unlocked_at  # for the check-in's newBadges
                awarded.append(badge)
    return awarded


def rewards_after_commit(*, user: User, xp: int = 0, reason: str) -> None:
    """The cross-app contract: ``xp`` (if any) and then the badge evaluation that
    another app's write earns the user, run once that write has committed.

    Inside an application transaction they wait for its commit (a rollback earns
    nothing); outside one the write has committed and they run now. A failure is
    logged, never raised: it must not turn the committed write into an error.
    """

    def run() -> None:
        try:
            if xp:
                xp_add(user=user, amount=xp, reason=reason)
            badges_evaluate(user=user)
        except Exception:
            logger.exception("rewards for %s failed for user %s", reason, user.pk)

    # in_transaction(), not Django's own check: a test's wrapping atomic block stands for
    # autocommit, as for the cache invalidations.
    if invalidation.in_transaction():
        transaction.on_commit(run)
    else:
        run()


# -- check-in --------------------------------------------------------------------------
def checkin_perform(*, user: User, now: dt.datetime | None = None) -> dict:
    """The daily check-in (docs/api.md#checkin-streak) [F8].

    Days are calendar days in FESTIVAL_TIME_ZONE. One conditional UPDATE moves the streak
    only when the last visit is not today: concurrent check-ins of one user queue on the
    row lock and PostgreSQL re-checks the WHERE against the committed row, so exactly one
    of them updates and awards +10. A last visit *after* today (a clock anomaly) resets
    the streak like a gap, as the table says. Badges are evaluated on every check-in,
    after the check-in has committed, so a badge problem never loses the check-in.
    Returns ``{streak, isNewDay, xpAwarded, newBadges}`` (newBadges as Badge models).
    """
    today = festival_today(now)
    yesterday = today - dt.timedelta(days=1)
    new_streak = Case(
        When(last_visit_date=yesterday, then=F("current_streak") + 1), default=Value(1)
    )
    with transaction.atomic():
        stats_ensure(user=user)
        updated = (
            UserStats.objects.filter(user=user)
            .filter(Q(last_visit_date__isnull=True) | ~Q(last_visit_date=today))
            .update(
                current_streak=new_streak,
                longest_streak=Greatest(F("longest_streak"), new_streak),
                last_visit_date=today,
                updated_at=timezone.now(),
            )
        )
        if updated:
            # update() fires no post_save and the streak is part of user:{id}:stats (not
            # of the board): invalidate explicitly; xp_add clears the rest.
            cache.cascade("streak_changed", user_id=user.pk)
            # xp_add re-reads the row after its own UPDATE, streak included.
            stats = xp_add(user=user, amount=CHECKIN_XP, reason="check-in")
        else:
            stats = UserStats.objects.get(user=user)
    new_badges = badges_evaluate(user=user)
    return {
        "streak": stats.current_streak,
        "isNewDay": bool(updated),
        "xpAwarded": CHECKIN_XP if updated else 0,
        "newBadges": new_badges,
    }
