"""The key tree (docs/cache.md#key-tree): every cached value's family, declared once.

No other module spells a key string. A family names its template, its TTL (the entry
``settings.CACHE_TTLS[name]``, read at call time), the service label of its metrics and
the *namespaces* whose generation its values carry. A namespace is a key prefix ending at
a ``:`` boundary (``user:123``, ``leaderboard``, ``experience:42:slots``); invalidating
``<namespace>:*`` makes every value under it unreadable in one Redis round trip.
Every key is also its own namespace, so a direct delete closes the stale-set race too.

The invalidation map (docs/cache.md#invalidation-map) is data here as well
(:data:`CASCADES`), so one file says what each write clears.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from guelaguetza.api.formats import iso

_FIELDS = string.Formatter()


@functools.cache
def _template_regex(template: str) -> re.Pattern:
    """``template`` as a regex, each ``{field}`` a named group of one segment.

    Compiled once per template: :func:`namespace_of` runs on every cascade, on the
    write path."""
    pattern = re.escape(template)
    for _, f, _, _ in _FIELDS.parse(template):
        if f:
            pattern = pattern.replace(re.escape("{" + f + "}"), f"(?P<{f}>[^:]+)")
    return re.compile(f"^{pattern}$")


class CacheKey(str):
    """A key of the tree (without the Redis prefix) that knows its family and namespaces."""

    family: Family
    namespaces: tuple[str, ...]

    def __new__(cls, value: str, family: Family, namespaces: tuple[str, ...]):
        obj = super().__new__(cls, value)
        obj.family = family
        obj.namespaces = namespaces
        return obj


@dataclass(frozen=True)
class Family:
    """One key family of the tree: ``template`` with ``{param}`` fields, the metrics
    ``service``, and the ``namespaces`` (templates too) whose generations it carries."""

    name: str
    template: str
    service: str
    namespaces: tuple[str, ...]
    description: str = ""
    #: params holding user text (a search term): always normalised by :func:`free_text`
    text_params: tuple[str, ...] = ()
    #: namespaces computed from the key's parts, for what no key prefix names (the
    #: leaderboard's position bands), with the templates they follow
    tags: Callable[[dict[str, str]], tuple[str, ...]] | None = None
    tag_templates: tuple[str, ...] = ()
    #: the stored body is the response ``{"success": true, "data": <value>}``; else the
    #: value's JSON itself (which is the whole response body where an endpoint serves it)
    envelope: bool = False
    #: where a signed-in caller's own flags go into the stored bytes (events):
    #: ``"item"`` (the one object in ``data``) or ``"items"`` (each of ``data.events``)
    splice: str | None = None
    #: namespaces (templates) a loader may record per value with ``cache.depends_on``:
    #: the entities a list shows, checked by Redis in the same round trip as the value
    captures: tuple[str, ...] = ()
    #: the model fields the values show, and what a change of each clears
    shows: tuple[Shows, ...] = ()
    params: tuple[str, ...] = field(init=False)
    _regex: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        params = tuple(f for _, f, _, _ in _FIELDS.parse(self.template) if f)
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "_regex", _template_regex(self.template))

    def key(self, **params: object) -> CacheKey:
        """The CacheKey for ``params`` (each normalised by :func:`key_part`, user text
        by :func:`free_text`)."""
        try:
            values = {k: key_part(params[k]) for k in self.params}
        except KeyError:
            missing = sorted(set(self.params) - params.keys())
            raise TypeError(f"{self.name} needs {missing}") from None
        for k in self.text_params:
            if params[k] is not None:
                values[k] = free_text(str(params[k]))
        return self.key_of_parts(values)

    def key_of_parts(self, parts: dict[str, str]) -> CacheKey:
        """The CacheKey whose segments are ``parts``, already normalised key parts."""
        value = self.template.format_map(parts)
        tags = self.tags(parts) if self.tags is not None else ()
        namespaces = (*(ns.format_map(parts) for ns in self.namespaces), *tags, value)
        return CacheKey(value, self, namespaces)

    def match(self, key: str) -> dict | None:
        """The params of ``key`` if it belongs to this family, else None."""
        m = self._regex.match(key)
        return m.groupdict() if m else None


def key_part(value: object) -> str:
    """One segment of a key: ``none`` for missing; ids, numbers and dates verbatim;
    any other value as a hash of its exact text (:func:`exact_hash`).

    Never normalised: two different ids must never share a key (a normalised
    ``"<id> "`` would read and overwrite the real ``<id>``'s value). Only a family's
    ``text_params`` (a search term, where equal-looking text means the same search)
    go through :func:`free_text`."""
    if type(value) is str and value.isascii() and value.isalnum() and len(value) <= 64:
        return value  # the common case: an id
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        # The wire form (JS ISO in UTC), without the colons that separate key segments.
        return iso(value).replace(":", "")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return text if _is_plain(text) else exact_hash(text)


def exact_hash(text: str) -> str:
    """``~`` + 16 hex of the exact text: bounded, no ``:``, and unlike any plain segment
    (``~`` is not in one) or a free-text hash, so it cannot name another value's key."""
    return "~" + hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


_PLAIN = re.compile(r"^[A-Za-z0-9_.\-+TZ]{1,64}$")


def _is_plain(text: str) -> bool:
    """Ids, numbers, ISO dates: kept verbatim (no ``:``, bounded)."""
    return bool(_PLAIN.match(text))


def free_text(text: str, *, max_length: int = 32) -> str:
    """Normalise user text for a key: NFKC, case-folded, spaces collapsed, no ``:``;
    past ``max_length`` characters (or with unsafe characters) it becomes a short hash.

    Text that would read like another key part (``none``, the marker of a missing
    value, or the shape of a hash) is hashed too, so two different searches never
    share a key."""
    norm = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    if not norm:
        return "none"
    safe = _SAFE_TEXT.fullmatch(norm) is not None
    if safe and len(norm) <= max_length and norm != "none" and not _HASHED.fullmatch(norm):
        return norm.replace(" ", "+")
    return "h" + hashlib.sha1(norm.encode()).hexdigest()[:16]


_SAFE_TEXT = re.compile(r"[\w\- .]+")
_HASHED = re.compile(r"h[0-9a-f]{16}")


# -- the leaderboard's position bands ---------------------------------------------------
# A leaderboard page depends on the rows at its positions, which no key prefix names (a
# page of another limit covers other positions). So a page also carries the generation
# of each band of CACHE_LEADERBOARD_BAND positions it overlaps within the first
# CACHE_LEADERBOARD_TOP, and of ``leaderboard:deep`` if it reaches past them. An XP
# change moves only the rows whose xp lies between the old and the new value, and those
# rows fill one run of positions (the order is xp desc): the writer invalidates the bands
# of that run (:func:`leaderboard_band_patterns`), so a check-in far down the board leaves
# the pages people read cached. ``leaderboard:*`` still clears every page.
LEADERBOARD_DEEP = "leaderboard:deep"


def leaderboard_band_namespaces(first: int, last: int) -> tuple[str, ...]:
    """The band namespaces of positions ``first..last`` (1-based, inclusive)."""
    band, top = settings.CACHE_LEADERBOARD_BAND, settings.CACHE_LEADERBOARD_TOP
    first = max(first, 1)
    out: tuple[str, ...] = ()
    if first <= top:
        bands = range((first - 1) // band, (min(last, top) - 1) // band + 1)
        out = tuple(f"leaderboard:band:{b}" for b in bands)
    return (*out, LEADERBOARD_DEEP) if last > top else out


def leaderboard_band_patterns(first: int, last: int) -> list[str]:
    """What a change of the rows at positions ``first..last`` invalidates."""
    return [f"{ns}:*" for ns in leaderboard_band_namespaces(first, last)]


def rank_namespaces(xp: int) -> tuple[str, ...]:
    """What a cached rank of a user with ``xp`` records (user_rank's ``captures``)."""
    return ("leaderboard", f"leaderboard:xp:{xp // settings.CACHE_RANK_XP_BUCKET}")


def rank_bucket_patterns(low: int, high: int) -> list[str]:
    """What a move from ``low`` to ``high`` xp clears of the cached ranks: the users with
    xp in [low, high) now have one more user above them. Nothing when nobody moved."""
    if high <= low:
        return []
    size = settings.CACHE_RANK_XP_BUCKET
    return [f"leaderboard:xp:{b}:*" for b in range(low // size, (high - 1) // size + 1)]


def _leaderboard_page_tags(parts: dict[str, str]) -> tuple[str, ...]:
    page, limit = parts["page"], parts["limit"]
    if not (page.isdigit() and limit.isdigit()) or int(page) < 1 or int(limit) < 1:
        # Not a page the API serves (it validates both), so nothing is stored under it.
        return (LEADERBOARD_DEEP,)
    first = (int(page) - 1) * int(limit) + 1
    return leaderboard_band_namespaces(first, first + int(limit) - 1)


# -- what each family's values show (dependencies) ------------------------------------
# A family declares the model fields its values show (:class:`Shows`); the receivers in
# guelaguetza.cache.dependencies are derived from these declarations, so a new payload
# field is one edit here, and tests/cache/test_freshness.py writes every declared field
# the way the product does and reads it back through the cache. docs/cache.md explains
# the kinds of dependency: a value's own entity, rows it embeds, list membership, and
# entities a list shows (recorded per value with ``cache.depends_on``).
ALL = ("*",)  # created or deleted rows (counts, membership), whatever their fields
DELETED = ("-",)  # deleted rows only
ANY = ("*", "~")  # created, deleted or saved in any way (a catalogue row shown whole)


@dataclass(frozen=True)
class Shows:
    """Values of a family show ``fields`` of ``model`` rows (``"app_label.Model"``).

    When a row of ``model`` is created or deleted (``ALL`` in ``fields``), or saved with
    one of ``fields`` changed, ``clears`` is invalidated after commit: key templates or
    namespace patterns over ``{id}``, the ids of the family's *entities* that show that
    row. The ids come from ``fk`` (an attribute of the changed row: its own ``pk`` by
    default), or from ``lookup``: ``entity_model.objects.filter(<lookup>=row.pk)``, for
    rows that embed the changed one (a host, a reviewer). ``locate`` (a dotted path)
    replaces both for dependencies no id names: it gets the changed rows' ids and returns
    the patterns to clear (a user's leaderboard band)."""

    model: str
    fields: tuple[str, ...]
    clears: tuple[str, ...]
    fk: str = "pk"
    lookup: str = ""
    entity_model: str = ""
    locate: str = ""


_USER_CARD = ("nombre", "avatar")
_HOST_CARD = ("nombre", "apellido", "avatar")
_EXPERIENCE_FIELDS = (
    "title", "description", "image_url", "images", "category", "price", "duration",
    "max_capacity", "location", "latitude", "longitude", "includes", "languages",
    "is_active", "rating", "review_count", "host",
)  # fmt: skip
# Fields that decide which experiences a list query returns, and in what order.
_EXPERIENCE_MEMBERSHIP = ("is_active", "category", "price", "title", "description", "location")
_EVENT_FIELDS = (
    "title", "description", "image_url", "location", "latitude", "longitude", "start_date",
    "end_date", "category", "is_official",
)  # fmt: skip
_EVENT_MEMBERSHIP = ("category", "start_date")
_SLOT_FIELDS = ("date", "start_time", "end_time", "capacity", "booked_count", "is_available")

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "badges_all",
            "badges:all",
            "gamification",
            ("badges",),
            "badge catalogue",
            shows=(Shows("gamification.Badge", ANY, ("badges:*",)),),
        ),
        # A catalogue edit bumps ``badges`` and so kills every user's badge view too.
        Family(
            "user_badges",
            "user:{user_id}:badges",
            "gamification",
            ("user:{user_id}", "badges"),
            "a user's badges (every badge with isUnlocked)",
            envelope=True,
            shows=(
                Shows("gamification.UserBadge", ALL, ("user:{id}:badges",), fk="user_id"),
                Shows("gamification.Badge", ANY, ("badges:*",)),
            ),
        ),
        # Who a bearer token's ``sub`` is (role, ban, active): a signed-in cached read
        # then costs no query to load the user.
        Family(
            "user_auth",
            "user:{user_id}:auth",
            "accounts",
            ("user:{user_id}",),
            "the token user's auth fields",
            shows=(
                Shows(
                    "accounts.User",
                    (
                        *ALL,
                        "email",
                        "nombre",
                        "apellido",
                        "avatar",
                        "region",
                        "role",
                        "banned_at",
                        "banned_reason",
                        "is_active",
                        "is_staff",
                        "is_superuser",
                    ),
                    ("user:{id}:auth",),
                ),
            ),
        ),
        Family(
            "user_stats",
            "user:{user_id}:stats",
            "gamification",
            ("user:{user_id}",),
            "a user's stats object without rank",
            shows=(
                Shows(
                    "gamification.UserStats",
                    (*ALL, "xp", "current_streak", "longest_streak"),
                    ("user:{id}:stats",),
                    fk="user_id",
                ),
            ),
        ),
        # A rank is 1 + the users with more xp: it changes exactly when a mover crosses
        # the user's xp. The loader records ``leaderboard:xp:{bucket}`` of the user's xp,
        # and a move from a to b invalidates the buckets of [a, b) (gamification.services).
        Family(
            "user_rank",
            "user:{user_id}:rank",
            "gamification",
            ("user:{user_id}",),
            "a user's competition rank",
            captures=("leaderboard", "leaderboard:xp:{bucket}"),
            shows=(
                Shows("gamification.UserStats", ("xp",), ("user:{id}:rank",), fk="user_id"),
                # A deleted row with xp above others lowers their rank (rare: all ranks).
                Shows("gamification.UserStats", DELETED, ("leaderboard:*",)),
            ),
        ),
        Family(
            "user_rsvps",
            "user:{user_id}:rsvps",
            "events",
            ("user:{user_id}",),
            "a user's RSVP'd events, RSVP and reminder id sets",
            captures=("event:{event_id}",),
            shows=(
                Shows("events.EventRSVP", ALL, ("user:{id}:rsvps",), fk="user_id"),
                Shows("events.EventReminder", ALL, ("user:{id}:rsvps",), fk="user_id"),
                # Each event it lists is recorded: any change to one clears it.
                Shows("events.Event", _EVENT_FIELDS, ("event:{id}:*",)),
                Shows("events.EventRSVP", ALL, ("event:{id}:*",), fk="event_id"),
            ),
        ),
        # The caller's own RSVP and reminder event ids, which flag the events lists and
        # details for them: apart from user_rsvps, so another user's RSVP (which changes
        # the rsvpCount user_rsvps shows) leaves every caller's flags cached.
        Family(
            "user_rsvp_ids",
            "user:{user_id}:rsvpids",
            "events",
            ("user:{user_id}",),
            "a user's RSVP and reminder event ids",
            shows=(
                Shows("events.EventRSVP", ALL, ("user:{id}:rsvpids",), fk="user_id"),
                Shows("events.EventReminder", ALL, ("user:{id}:rsvpids",), fk="user_id"),
            ),
        ),
        Family(
            "leaderboard_page",
            "leaderboard:page:{page}:limit:{limit}",
            "gamification",
            ("leaderboard", "leaderboard:page"),
            "one page of the leaderboard (+ the position bands it covers)",
            envelope=True,
            tags=_leaderboard_page_tags,
            tag_templates=("leaderboard:band:{band}", LEADERBOARD_DEEP),
            shows=(
                # A new or deleted row changes ``total`` on every page.
                Shows("gamification.UserStats", ALL, ("leaderboard:page:*",)),
                # xp_add clears the bands of the rows a move passed; a row's xp edited
                # through the ORM (the admin) clears the whole board, pages and ranks.
                Shows("gamification.UserStats", ("xp",), ("leaderboard:*",)),
                Shows(
                    "accounts.User",
                    _USER_CARD,
                    (),
                    locate="gamification.services.leaderboard_bands_of_users",
                ),
            ),
        ),
        Family(
            "experience_detail",
            "experience:{experience_id}:detail",
            "experiences",
            ("experience:{experience_id}",),
            "an experience, its host, newest reviews and counts",
            shows=(
                Shows(
                    "experiences.Experience",
                    (*ALL, *_EXPERIENCE_FIELDS),
                    ("experience:{id}:detail",),
                ),
                Shows(
                    "accounts.User",
                    _HOST_CARD,
                    ("experience:{id}:detail",),
                    lookup="host",
                    entity_model="experiences.Experience",
                ),
                Shows(
                    "accounts.User",
                    _USER_CARD,
                    ("experience:{id}:detail",),
                    lookup="reviews__user",
                    entity_model="experiences.Experience",
                ),
                Shows(
                    "experiences.ExperienceReview",
                    (*ALL, "rating", "comment"),
                    ("experience:{id}:detail",),
                    fk="experience_id",
                ),
                Shows("experiences.Booking", ALL, ("experience:{id}:detail",), fk="experience_id"),
            ),
        ),
        Family(
            "experience_slots",
            "experience:{experience_id}:slots:{start}:{end}",
            "experiences",
            ("experience:{experience_id}", "experience:{experience_id}:slots"),
            "an experience's available slots between two dates",
            shows=(
                Shows(
                    "experiences.ExperienceTimeSlot",
                    (*ALL, *_SLOT_FIELDS),
                    ("experience:{id}:slots:*",),
                    fk="experience_id",
                ),
                Shows("experiences.Experience", ALL, ("experience:{id}:slots:*",)),
            ),
        ),
        # A list page depends on its query's membership (``experiences:list``: which rows,
        # in what order) and on each experience it shows (``experience:{id}:row``,
        # recorded by the loader): a booking on A clears the pages that show A only.
        Family(
            "experiences_list",
            "experiences:list:cat:{category}:min:{min_price}:max:{max_price}"
            ":date:{date}:q:{q}:page:{page}:limit:{limit}",
            "experiences",
            ("experiences", "experiences:list"),
            "a page of active experiences for one filter",
            text_params=("q",),
            captures=("experience:{experience_id}", "experience:{experience_id}:row"),
            shows=(
                Shows(
                    "experiences.Experience",
                    (*ALL, *_EXPERIENCE_MEMBERSHIP),
                    ("experiences:list:*",),
                ),
                Shows("experiences.Experience", _EXPERIENCE_FIELDS, ("experience:{id}:row:*",)),
                Shows(
                    "experiences.ExperienceTimeSlot",
                    (*ALL, "date", "is_available"),
                    ("experiences:list:*",),
                    fk="experience_id",
                ),
                Shows(
                    "accounts.User",
                    _HOST_CARD,
                    ("experience:{id}:row:*",),
                    lookup="host",
                    entity_model="experiences.Experience",
                ),
                Shows(
                    "experiences.ExperienceReview",
                    ALL,
                    ("experience:{id}:row:*",),
                    fk="experience_id",
                ),
                Shows("experiences.Booking", ALL, ("experience:{id}:row:*",), fk="experience_id"),
            ),
        ),
        Family(
            "event_detail",
            "event:{event_id}:detail",
            "events",
            ("event:{event_id}",),
            "an event with its RSVP count",
            envelope=True,
            splice="item",
            shows=(
                Shows("events.Event", (*ALL, *_EVENT_FIELDS), ("event:{id}:*",)),
                Shows("events.EventRSVP", ALL, ("event:{id}:*",), fk="event_id"),
            ),
        ),
        Family(
            "events_list",
            "events:list:cat:{category}:start:{start}:end:{end}:page:{page}:limit:{limit}",
            "events",
            ("events", "events:list"),
            "a page of events for one filter",
            envelope=True,
            splice="items",
            captures=("event:{event_id}",),
            shows=(
                Shows("events.Event", (*ALL, *_EVENT_MEMBERSHIP), ("events:list:*",)),
                Shows("events.Event", _EVENT_FIELDS, ("event:{id}:*",)),
                Shows("events.EventRSVP", ALL, ("event:{id}:*",), fk="event_id"),
            ),
        ),
        Family("config", "config:{name}", "gamification", ("config",), "system config"),
    )
}

# What writes that fire no signal clear (``QuerySet.update()``, ``bulk_*``), by name:
# ``cache.cascade(name, **ids)`` schedules them all after commit. Writes through the ORM
# are covered by the receivers derived from the families' ``shows``.
CASCADES: dict[str, tuple[str, ...]] = {
    # xp_add: plus the position bands of the rows the move passed and the xp buckets of
    # the ranks it changed, which the service computes from the database.
    "xp_added": ("user:{user_id}:stats", "user:{user_id}:rank"),
    # A check-in's streak and last visit: not on the board.
    "streak_changed": ("user:{user_id}:stats",),
    # A slot's seats changed (a booking or a cancel): its slots, detail and list rows.
    "seats_changed": ("experience:{experience_id}:*",),
    # A slot filled up or opened again: the ``date`` filter's membership too.
    "slot_availability_changed": ("experience:{experience_id}:*", "experiences:list:*"),
    # An experience's rating and reviewCount, recomputed with update().
    "rating_changed": ("experience:{experience_id}:detail", "experience:{experience_id}:row:*"),
    "badge_catalogue_changed": ("badges:*",),
    # Slots made with bulk_create: the slot lists and the lists' ``date`` filter.
    "slots_created": ("experience:{experience_id}:slots:*", "experiences:list:*"),
    # Stats rows made with bulk_create (the seed): ``total`` on every page, and the row.
    "stats_created": ("user:{user_id}:stats", "leaderboard:page:*"),
}


class Keys:
    """``keys.user_stats(user_id=...)`` -> CacheKey: one attribute per family, spelled out
    so that a misspelt family is an AttributeError an editor shows, and
    tests/cache/test_names.py checks every ``keys.<family>`` the code uses."""

    badges_all = FAMILIES["badges_all"].key
    user_badges = FAMILIES["user_badges"].key
    user_auth = FAMILIES["user_auth"].key
    user_stats = FAMILIES["user_stats"].key
    user_rank = FAMILIES["user_rank"].key
    user_rsvps = FAMILIES["user_rsvps"].key
    user_rsvp_ids = FAMILIES["user_rsvp_ids"].key
    leaderboard_page = FAMILIES["leaderboard_page"].key
    experience_detail = FAMILIES["experience_detail"].key
    experience_slots = FAMILIES["experience_slots"].key
    experiences_list = FAMILIES["experiences_list"].key
    event_detail = FAMILIES["event_detail"].key
    events_list = FAMILIES["events_list"].key
    config = FAMILIES["config"].key


keys = Keys()


def resolve(key: str) -> CacheKey:
    """The CacheKey of a key string of the tree; ValueError if it is in no family."""
    if isinstance(key, CacheKey):
        return key
    for family in FAMILIES.values():
        parts = family.match(key)
        if parts is not None:
            # The segments are key parts already: normalising them again would name
            # another key (free_text hashes its own ``mole+negro`` and ``none``).
            return family.key_of_parts(parts)
    raise ValueError(f"not a key of the cache tree: {key!r}")


def _templates(family: Family) -> tuple[str, ...]:
    return (family.template, *family.namespaces, *family.tag_templates, *family.captures)


def service_of(target: str) -> str:
    """The metrics service of a key or namespace of the tree (its first family's)."""
    for family in FAMILIES.values():
        for template in _templates(family):
            if _template_matches(template, target):
                return family.service
    return "gamification"


def namespace_of(pattern: str) -> str | None:
    """The namespace of a prefix pattern ``<ns>:*`` if ``ns`` is one the tree declares
    (so it can be invalidated in O(1)); None for any other glob."""
    if not pattern.endswith(":*") or any(c in pattern[:-2] for c in "*?[]"):
        return None
    ns = pattern[:-2]
    for family in FAMILIES.values():
        for template in _templates(family):
            if _template_matches(template, ns):
                return ns
    return None


def _template_matches(template: str, ns: str) -> bool:
    """Does ``ns`` fit ``template``, each ``{field}`` standing for one segment?"""
    return _template_regex(template).match(ns) is not None
