"""Reads of the gamification app, all through the cache (keys of guelaguetza.cache).

Each cached selector returns the JSON-ready payload, so a hit costs one Redis round trip
and no ORM or serializer work. Ranks [F4] are ``1 + COUNT(xp > my xp)`` over the index
on (xp DESC, user_id), cached per user; why an index and not a sorted set:
docs/architecture.md#ranking.
"""

from __future__ import annotations

import orjson
from django.contrib.auth import get_user_model
from django.db.models import Case, IntegerField, Value, When

from gamification import serializers as out
from gamification.levels import level_for
from gamification.models import CATEGORY_RANK, Badge, UserBadge, UserStats
from guelaguetza.api.formats import iso
from guelaguetza.cache import cache, keys
from guelaguetza.cache.codec import Entry
from guelaguetza.cache.registry import rank_namespaces
from guelaguetza.errors import NotFound
from guelaguetza.ids import possible_id

USER_NOT_FOUND = "Usuario no encontrado"


# -- stats and rank --------------------------------------------------------------------
class _NoStatsRow(Exception):
    """Raised through cache.entry so that zeros of a row-less user are never stored:
    /me/stats of that user must still find no cached value and create the row."""


def _stats_load(user_id: str, *, create: bool) -> dict:
    if create:
        row, _ = UserStats.objects.get_or_create(user_id=user_id)
    else:
        row = UserStats.objects.filter(user_id=user_id).first()
        if row is None:
            # F7: an unknown user is a 404 and a known one without a row gets zeros;
            # neither writes anything.
            if not get_user_model().objects.filter(pk=user_id).exists():
                raise NotFound(USER_NOT_FOUND)
            raise _NoStatsRow
    return out.stats_payload(
        xp=row.xp, current_streak=row.current_streak, longest_streak=row.longest_streak
    )


_ZERO_STATS = out.stats_payload(xp=0, current_streak=0, longest_streak=0)


def rank_for_xp(xp: int) -> int:
    """Competition rank of an xp value: 1 + how many users have more (index range scan)."""
    return 1 + UserStats.objects.filter(xp__gt=xp).count()


def _rank_loader(xp: int):
    def load() -> int:
        cache.depends_on(*rank_namespaces(xp))
        return rank_for_xp(xp)

    return load


def stats_get(*, user_id: str, create: bool = False) -> tuple[Entry, Entry]:
    """UserStats (docs/api.md#shape-userstats) as the two stored entries (bytes and
    ETag) of user:{id}:stats and user:{id}:rank, which the view composes exactly as a
    cache hit does (guelaguetza.api.cached.stats_body). The rank is computed from the
    user's current xp on a miss and records the xp bucket it was counted for, so a mover
    crossing that xp clears it (registry).

    ``create`` (for /me/stats) creates a missing row, as the contract says; otherwise an
    unknown user raises NotFound and nothing is written (F7); a known user without a row
    gets zeros, never stored (/me/stats must still create the row).
    """
    if not possible_id(user_id):
        raise NotFound(USER_NOT_FOUND)
    key = keys.user_stats(user_id=user_id)
    try:
        stats = cache.entry(key, lambda: _stats_load(user_id, create=create))
        xp = orjson.loads(stats.body)["xp"]
    except _NoStatsRow:
        stats, xp = cache.unstored_entry(key, _ZERO_STATS), 0
    rank = cache.entry(keys.user_rank(user_id=user_id), _rank_loader(xp))
    return stats, rank


# -- badges ----------------------------------------------------------------------------
def _category_rank() -> Case:
    return Case(
        *(When(category=c, then=Value(i)) for c, i in CATEGORY_RANK.items()),
        default=Value(len(CATEGORY_RANK)),
        output_field=IntegerField(),
    )


def badges_all() -> list[dict]:
    """The catalogue (badges:all), ordered by category in enum declaration order, then
    threshold: an explicit rank, since alphabetical order differs (docs/api.md#shapes)."""

    def load() -> list[dict]:
        rows = Badge.objects.annotate(category_rank=_category_rank()).order_by(
            "category_rank", "threshold", "code"
        )
        return [out.badge_payload(b) for b in rows]

    return cache.wrap(keys.badges_all(), load)


def badges_for_user(*, user_id: str, as_entry: bool = False):
    """Every badge with the user's isUnlocked/unlockedAt (user:{id}:badges); with
    ``as_entry`` the stored response bytes and ETag."""

    def load() -> list[dict]:
        unlocked = dict(
            UserBadge.objects.filter(user_id=user_id).values_list("badge_id", "unlocked_at")
        )
        return [out.user_badge_payload(b, iso(unlocked.get(b["id"]))) for b in badges_all()]

    return (cache.entry if as_entry else cache.wrap)(keys.user_badges(user_id=user_id), load)


def badges_unlocked(*, user_id: str) -> list[dict]:
    """Only the unlocked badges (an unknown user simply has none: ``[]``)."""
    if not possible_id(user_id):
        return []  # no query, no key
    return [b for b in badges_for_user(user_id=user_id) if b["isUnlocked"]]


# -- leaderboard -----------------------------------------------------------------------
def _leaderboard_load(page: int, limit: int) -> dict:
    offset = (page - 1) * limit
    # The page off the (xp desc, user_id) index alone, then its users by primary key: a
    # join in the same query would look up the user of every skipped row too (a deep
    # page at 100k rows: ~200 ms with the join, ~20 ms without).
    rows = list(
        UserStats.objects.order_by("-xp", "user_id").values("user_id", "xp")[
            offset : offset + limit
        ]
    )
    users = {
        u["id"]: u
        for u in get_user_model()
        .objects.filter(pk__in=[r["user_id"] for r in rows])
        .values("id", "nombre", "avatar")
    }
    entries: list[dict] = []
    for index, row in enumerate(rows):
        if index and row["xp"] == rows[index - 1]["xp"]:
            rank = entries[-1]["rank"]  # a tie shares the rank of the first of its group
        elif index or not offset:
            rank = offset + index + 1  # everything before it on the order has more xp
        else:
            rank = rank_for_xp(row["xp"])  # a page may start inside a tie group
        # A user deleted between the two queries: keep the row (ranks stay right).
        user = users.get(row["user_id"], {"nombre": "", "avatar": None})
        entries.append(
            {
                "rank": rank,
                "userId": row["user_id"],
                "nombre": user["nombre"],
                "avatar": user["avatar"],
                "xp": row["xp"],
                "level": level_for(row["xp"]),
            }
        )
    return {"entries": entries, "total": UserStats.objects.count()}


def leaderboard_page(*, page: int, limit: int, as_entry: bool = False):
    """``{entries, total}`` of one page (leaderboard:page:{p}:limit:{l}); with
    ``as_entry`` the stored response bytes and ETag (guelaguetza.cache.codec.Entry)."""
    return (cache.entry if as_entry else cache.wrap)(
        keys.leaderboard_page(page=page, limit=limit), lambda: _leaderboard_load(page, limit)
    )
