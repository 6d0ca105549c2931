"""The key tree of DESIGN.md: every cached value's family, declared once.

No other module spells a key string. A family names its template, its TTL (the entry
``settings.CACHE_TTLS[name]``, read at call time), the service label of its metrics and
the *namespaces* whose generation its values carry. A namespace is a key prefix ending at
a ``:`` boundary (``user:123``, ``leaderboard``, ``experience:42:slots``); invalidating
``<namespace>:*`` makes every value under it unreadable in one Redis round trip.
Every key is also its own namespace, so a direct delete closes the stale-set race too.

The invalidation map of DESIGN.md is data here as well (:data:`CASCADES`), so one file
says what each write clears.
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


def _leaderboard_page_tags(parts: dict[str, str]) -> tuple[str, ...]:
    page, limit = parts["page"], parts["limit"]
    if not (page.isdigit() and limit.isdigit()) or int(page) < 1 or int(limit) < 1:
        # Not a page the API serves (it validates both), so nothing is stored under it.
        return (LEADERBOARD_DEEP,)
    first = (int(page) - 1) * int(limit) + 1
    return leaderboard_band_namespaces(first, first + int(limit) - 1)


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("badges_all", "badges:all", "gamification", ("badges",), "badge catalogue"),
        # A catalogue edit bumps ``badges`` and so kills every user's badge view too.
        Family(
            "user_badges",
            "user:{user_id}:badges",
            "gamification",
            ("user:{user_id}", "badges"),
            "a user's badges (every badge with isUnlocked)",
        ),
        # Who a bearer token's ``sub`` is (role, ban, active): a signed-in cached read
        # then costs no query to load the user.
        Family(
            "user_auth",
            "user:{user_id}:auth",
            "accounts",
            ("user:{user_id}",),
            "the token user's auth fields",
        ),
        Family("user_stats", "user:{user_id}:stats", "gamification", ("user:{user_id}",)),
        Family("user_rank", "user:{user_id}:rank", "gamification", ("user:{user_id}",)),
        Family(
            "user_rsvps",
            "user:{user_id}:rsvps",
            "events",
            ("user:{user_id}",),
            "a user's RSVP'd events, RSVP and reminder id sets",
        ),
        Family(
            "leaderboard_page",
            "leaderboard:page:{page}:limit:{limit}",
            "gamification",
            ("leaderboard",),
            "one page of the leaderboard (+ the position bands it covers)",
            tags=_leaderboard_page_tags,
            tag_templates=("leaderboard:band:{band}", LEADERBOARD_DEEP),
        ),
        Family(
            "experience_detail",
            "experience:{experience_id}:detail",
            "experiences",
            ("experience:{experience_id}",),
        ),
        Family(
            "experience_slots",
            "experience:{experience_id}:slots:{start}:{end}",
            "experiences",
            ("experience:{experience_id}", "experience:{experience_id}:slots"),
        ),
        Family(
            "experiences_list",
            "experiences:list:cat:{category}:min:{min_price}:max:{max_price}"
            ":date:{date}:q:{q}:page:{page}:limit:{limit}",
            "experiences",
            ("experiences", "experiences:list"),
            text_params=("q",),
        ),
        Family("event_detail", "event:{event_id}:detail", "events", ("event:{event_id}",)),
        Family(
            "events_list",
            "events:list:cat:{category}:start:{start}:end:{end}:page:{page}:limit:{limit}",
            "events",
            ("events", "events:list"),
        ),
        Family("config", "config:{name}", "gamification", ("config",), "system config"),
    )
}

# What each write clears (DESIGN.md, "Invalidation map"). Entries are key templates
# (a direct delete) or namespace patterns ending in ``:*``; ``cache.cascade(name, **ids)``
# schedules them all after commit.
CASCADES: dict[str, tuple[str, ...]] = {
    # A stats row saved or deleted through the ORM (created, edited in the admin, seeded):
    # the board's size or any row may have changed.
    "xp_changed": ("user:{user_id}:stats", "user:{user_id}:rank", "leaderboard:*"),
    # xp_add: plus the bands of the rows the change moved (leaderboard_band_patterns),
    # which the service computes from the database.
    "xp_added": ("user:{user_id}:stats", "user:{user_id}:rank"),
    # A check-in's streak and last visit: not on the board.
    "streak_changed": ("user:{user_id}:stats",),
    "user_badges_changed": ("user:{user_id}:badges",),
    "badge_catalogue_changed": ("badges:*",),
    "rsvp_changed": ("event:{event_id}:detail", "events:list:*", "user:{user_id}:rsvps"),
    "reminder_changed": ("user:{user_id}:rsvps",),
    # Plus the attendees' user:{id}:rsvps, which the events receiver deletes by id.
    "event_changed": ("event:{event_id}:*", "events:list:*"),
    "experience_changed": ("experience:{experience_id}:*", "experiences:*"),
    # The experiences list's ``date`` filter looks at available slots too.
    "slots_changed": ("experience:{experience_id}:slots:*", "experiences:list:*"),
    "booking_changed": ("experience:{experience_id}:*", "experiences:*"),
    "review_created": ("experience:{experience_id}:detail", "experiences:*"),
    "profile_changed": ("leaderboard:*", "user:{user_id}:*"),
    # Ban, role, active flag or e-mail changed: only who the token's user is.
    "user_auth_changed": ("user:{user_id}:auth",),
}


class _Keys:
    """``keys.user_stats(user_id=...)`` -> CacheKey; one attribute per family."""

    def __getattr__(self, name: str):
        try:
            family = FAMILIES[name]
        except KeyError:
            raise AttributeError(name) from None
        return family.key


keys = _Keys()


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


def service_of(target: str) -> str:
    """The metrics service of a key or namespace of the tree (its first family's)."""
    for family in FAMILIES.values():
        for template in (family.template, *family.namespaces, *family.tag_templates):
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
        for template in (*family.namespaces, *family.tag_templates, family.template):
            if _template_matches(template, ns):
                return ns
    return None


def _template_matches(template: str, ns: str) -> bool:
    """Does ``ns`` fit ``template``, each ``{field}`` standing for one segment?"""
    return _template_regex(template).match(ns) is not None
