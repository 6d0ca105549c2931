"""The hit path: cached reads answered before URL resolution (docs/cache.md#hits).

:class:`CachedReadMiddleware` knows the cached GET routes. For one of them it parses the
query with a plain function, builds the keys from the registry, and reads every value
it needs (and, for a signed-in caller, ``user:{id}:auth`` after verifying the JWT
locally) in one Redis round trip; a hit returns the stored response bytes with their
ETag, or 304 when ``If-None-Match`` already has them. Anything else falls through to
the DRF viewset, the one source of truth: a miss, a value due for refresh-ahead, an
unusual query (the view answers its 400), a token whose user is not cached, Redis down.
So this layer never decides what a response is, only that the stored one still holds.

Views of the same routes answer with the same bytes and ETag (:func:`entry_response`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import orjson
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils.cache import patch_vary_headers

from guelaguetza.cache import cache, keys
from guelaguetza.cache.codec import Entry, personalise
from guelaguetza.cache.metrics import HITS
from guelaguetza.cache.registry import CacheKey
from guelaguetza.cache.service import refresh_requested
from guelaguetza.ids import possible_id

# -- responses -------------------------------------------------------------------------


def _etag_matches(header: str | None, quoted: str) -> bool:
    """If-None-Match's weak comparison (RFC 9110 13.1.2) against our strong tag."""
    if not header:
        return False
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == quoted:
            return True
    return False


def entry_response(request, body: bytes, etag: str, *, personal: bool = False) -> HttpResponse:
    """The stored bytes with their ETag, or 304 when the client already has them."""
    quoted = f'"{etag}"'
    if _etag_matches(request.META.get("HTTP_IF_NONE_MATCH"), quoted):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = quoted
    if personal:
        # The same URL answers differently per caller: shared caches must key on it.
        patch_vary_headers(response, ["Authorization"])
    return response


def personal_body(entry: Entry, rsvps: Entry) -> tuple[bytes, str]:
    """An events entry with one caller's hasRSVP/hasReminder, and its ETag."""
    mine = orjson.loads(rsvps.body)
    body = personalise(entry, set(mine["rsvpIds"]), set(mine["reminderIds"]))
    return body, f"{entry.etag}.{rsvps.etag}"


# -- plain query parsing ---------------------------------------------------------------
_DIGITS = re.compile(r"[1-9]\d{0,5}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _int(params, name: str, default: int, maximum: int) -> int | None:
    raw = params.get(name)
    if raw is None:
        return default
    if not _DIGITS.fullmatch(raw) or int(raw) > maximum:
        return None
    return int(raw)


def _only(params, allowed: frozenset) -> bool:
    """Every parameter known and given once with a value: else the view decides."""
    return all(k in allowed and len(params.getlist(k)) == 1 and params[k] for k in params)


def leaderboard_query(params) -> dict | None:
    """``page``/``limit`` of /leaderboard, or None to let the view answer (its 400s)."""
    if not _only(params, frozenset({"page", "limit"})):
        return None
    page, limit = _int(params, "page", 1, 100_000), _int(params, "limit", 20, 100)
    return None if page is None or limit is None else {"page": page, "limit": limit}


def experiences_query(params) -> dict | None:
    if not _only(params, frozenset({"page", "limit", "category"})):
        return None
    from experiences.models import ExperienceCategory

    page, limit = _int(params, "page", 1, 100_000), _int(params, "limit", 10, 50)
    category = params.get("category")
    if page is None or limit is None or (category and category not in ExperienceCategory.values):
        return None
    return {"page": page, "limit": limit, "category": category}


def slots_query(params) -> dict | None:
    if not _only(params, frozenset({"startDate", "endDate"})) or "startDate" not in params:
        return None
    start, end = params["startDate"], params.get("endDate", params["startDate"])
    if not (_DATE.fullmatch(start) and _DATE.fullmatch(end)) or end < start:
        return None
    return {"start": start, "end": end}


def events_query(params) -> dict | None:
    if not _only(params, frozenset({"page", "limit", "category", "startDate", "endDate"})):
        return None
    from events.models import EventCategory
    from events.serializers import MAX_LIMIT, MAX_PAGE, parse_datetime_lenient

    page = _int(params, "page", 1, MAX_PAGE)
    limit = _int(params, "limit", 20, MAX_LIMIT)
    category = params.get("category")
    if page is None or limit is None or (category and category not in EventCategory.values):
        return None
    out = {"page": page, "limit": limit, "category": category, "start": None, "end": None}
    for name, field in (("startDate", "start"), ("endDate", "end")):
        if name in params:
            out[field] = parse_datetime_lenient(params[name])
            if out[field] is None:
                return None
    return out


# -- the routes ------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """What a cached route reads, and how its body is made of the entries."""

    keys: list[CacheKey]
    compose: Callable[[list[Entry]], tuple[bytes, str]]
    auth: str = "none"  # "none", "optional" (personalised when signed in), "required"
    personal_key: Callable[[str], list[CacheKey]] | None = None
    personal: Callable[[list[Entry], list[Entry]], tuple[bytes, str]] | None = None


def _one(entries: list[Entry]) -> tuple[bytes, str]:
    return entries[0].body, entries[0].etag


def _stats(entries: list[Entry]) -> tuple[bytes, str]:
    # user:{id}:stats is the stats object, user:{id}:rank the number: the response is
    # {"success":true,"data":{<stats>,"rank":<rank>}}, spliced, not re-encoded.
    stats, rank = entries[-2:]
    body = b'{"success":true,"data":' + stats.body[:-1] + b',"rank":' + rank.body + b"}}"
    return body, f"{stats.etag}.{rank.etag}"


def _events(entries: list[Entry], mine: list[Entry]) -> tuple[bytes, str]:
    return personal_body(entries[0], mine[0])


def _plan(path: str, params) -> tuple[str, Plan] | None:
    for pattern, route, build in _ROUTES:
        match = pattern.fullmatch(path)
        if match:
            plan = build(params, **match.groupdict())
            return (route, plan) if plan is not None else None
    return None


def _leaderboard(params) -> Plan | None:
    q = leaderboard_query(params)
    return q and Plan([keys.leaderboard_page(**q)], _one)


def _user_stats(params, user_id: str) -> Plan | None:
    if params or not possible_id(user_id):
        return None
    return Plan([keys.user_stats(user_id=user_id), keys.user_rank(user_id=user_id)], _stats)


def _me_stats(params) -> Plan | None:
    if params:
        return None
    return Plan([], _stats, auth="required", personal_key=lambda uid: _user_stats(params, uid).keys)


def _me_badges(params) -> Plan | None:
    if params:
        return None
    return Plan([], _one, auth="required", personal_key=lambda uid: [keys.user_badges(user_id=uid)])


def _experiences(params) -> Plan | None:
    q = experiences_query(params)
    if q is None:
        return None
    key = keys.experiences_list(
        category=q["category"],
        min_price=None,
        max_price=None,
        date=None,
        q=None,
        page=q["page"],
        limit=q["limit"],
    )
    return Plan([key], _one)


def _experience(params, experience_id: str) -> Plan | None:
    if params or not possible_id(experience_id):
        return None
    return Plan([keys.experience_detail(experience_id=experience_id)], _one)


def _slots(params, experience_id: str) -> Plan | None:
    q = slots_query(params)
    if q is None or not possible_id(experience_id):
        return None
    return Plan([keys.experience_slots(experience_id=experience_id, **q)], _one)


def _events_list(params) -> Plan | None:
    q = events_query(params)
    return q and Plan(
        [keys.events_list(**q)],
        _one,
        auth="optional",
        personal_key=lambda uid: [keys.user_rsvps(user_id=uid)],
        personal=_events,
    )


def _event(params, event_id: str) -> Plan | None:
    if params or not possible_id(event_id):
        return None
    return Plan(
        [keys.event_detail(event_id=event_id)],
        _one,
        auth="optional",
        personal_key=lambda uid: [keys.user_rsvps(user_id=uid)],
        personal=_events,
    )


_ID = r"(?P<{}>[^/]+)"
_ROUTES = [
    (re.compile(p), route, build)
    for p, route, build in (
        (r"/api/gamification/leaderboard", "/api/gamification/leaderboard", _leaderboard),
        (
            r"/api/gamification/users/" + _ID.format("user_id") + "/stats",
            "/api/gamification/users/:id/stats",
            _user_stats,
        ),
        (r"/api/gamification/me/stats", "/api/gamification/me/stats", _me_stats),
        (r"/api/gamification/me/badges", "/api/gamification/me/badges", _me_badges),
        (r"/api/gamification/badges", "/api/gamification/badges", _me_badges),
        (r"/api/bookings/experiences", "/api/bookings/experiences", _experiences),
        (
            r"/api/bookings/experiences/" + _ID.format("experience_id"),
            "/api/bookings/experiences/:id",
            _experience,
        ),
        (
            r"/api/bookings/experiences/" + _ID.format("experience_id") + "/slots",
            "/api/bookings/experiences/:id/slots",
            _slots,
        ),
        (r"/api/events", "/api/events", _events_list),
        (r"/api/events/" + _ID.format("event_id"), "/api/events/:id", _event),
    )
]
_EXCLUDED_EVENT_IDS = frozenset({"my-rsvps"})


# -- the middleware --------------------------------------------------------------------
def _bearer_user_id(request: HttpRequest) -> str | None:
    """The ``sub`` of a valid access token (verified here, no database), else None."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token or token.startswith("demo_"):
        return None
    from accounts.tokens import access_token_decode

    claims = access_token_decode(token.strip())
    return claims["sub"] if claims else None


class CachedReadMiddleware:
    """Serves hits of the cached GET routes; everything else goes on to Django/DRF."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method == "GET"
            and request.path.startswith("/api/")
            and settings.CACHE_ENABLED
            # DRF's test client signs in without a header (force_authenticate): only
            # the view can see that caller.
            and getattr(request, "_force_auth_user", None) is None
        ):
            response = self.serve(request)
            if response is not None:
                return response
        return self.get_response(request)

    def serve(self, request: HttpRequest) -> HttpResponse | None:
        found = _plan(request.path, request.GET)
        if found is None or request.path.rsplit("/", 1)[-1] in _EXCLUDED_EVENT_IDS:
            return None
        route, plan = found
        user_id = None
        if plan.auth != "none" or settings.RATE_LIMITS_ENABLED:
            user_id = _bearer_user_id(request)
        if plan.auth == "required" and user_id is None:
            return None  # the view answers the 401
        ckeys = list(plan.keys)
        mine: list[CacheKey] = []
        if user_id is not None and plan.auth != "none":
            mine = [keys.user_auth(user_id=user_id), *plan.personal_key(user_id)]
        read = cache.read_many(ckeys + mine)
        if read is cache.FAILED:
            return None
        entries = [entry for entry, _ in read[0]]
        if any(entry is cache.MISS or entry.body == b"null" for entry in entries):
            return None  # a miss, or a cached "no such row": the view answers
        due = [k for k, e in zip(ckeys + mine, entries, strict=True) if _due(e)]
        if due:
            # Refresh-ahead: the view recomputes these (one caller at a time).
            refresh_requested.set(frozenset(due))
            return None
        personal = False
        if mine:
            auth = orjson.loads(entries[len(ckeys)].body)
            if not auth or not auth.get("is_active"):
                return None
            if plan.auth == "required" and auth.get("banned_at") is not None:
                return None  # the view answers the 403
            if plan.personal is not None:
                personal = True
        refused = _throttled(request, user_id)
        if refused is not None:
            return refused
        for k in ckeys + mine:
            HITS[k.family.service].inc()
        request.gc_route = route
        if personal:
            body, etag = plan.personal(entries[: len(ckeys)], entries[len(ckeys) + 1 :])
        else:
            body, etag = plan.compose(entries if plan.keys else entries[1:])
        return entry_response(request, body, etag, personal=plan.auth != "none")


def _due(entry: Entry) -> bool:
    from guelaguetza.cache.flight import refresh_due

    return refresh_due(entry)


def _throttled(request: HttpRequest, user_id: str | None) -> HttpResponse | None:
    """The rate limits a DRF view would apply (api/throttling.py), or None."""
    if not settings.RATE_LIMITS_ENABLED:
        return None
    from guelaguetza.api.errors import ApiError
    from guelaguetza.api.throttling import ScopedRateThrottle

    user = SimpleNamespace(pk=user_id, is_authenticated=True) if user_id else AnonymousUser()
    shim = SimpleNamespace(user=user, path=request.path, method=request.method, META=request.META)
    try:
        ScopedRateThrottle().allow_request(shim, None)
    except ApiError as exc:
        return JsonResponse(exc.to_body(), status=exc.status_code, headers=exc.headers)
    return None
