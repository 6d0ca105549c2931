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
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import NamedTuple
from urllib.parse import parse_qsl

import orjson
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.signals import setting_changed
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    JsonResponse,
)
from django.http.request import HttpHeaders
from django.http.response import ResponseHeaders
from django.utils.cache import patch_vary_headers

from guelaguetza.cache import cache, keys
from guelaguetza.cache.codec import Entry, personalise
from guelaguetza.cache.flight import refresh_due
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
    """An events entry with one caller's hasRSVP/hasReminder (``rsvps``: the caller's
    ``user:{id}:rsvpids`` entry), and its ETag."""
    mine = orjson.loads(rsvps.body)
    body = personalise(entry, set(mine["rsvpIds"]), set(mine["reminderIds"]))
    return body, f"{entry.etag}.{rsvps.etag}"


# -- plain query parsing ---------------------------------------------------------------
# The views' own declarations (guelaguetza/api/query.py, docs/architecture.md#query-strings):
# a query the view would refuse falls through (the view answers its 400), and the keys
# below are built from the very dict the view hands its selector.


def leaderboard_query(params) -> dict | None:
    """``page``/``limit`` of /leaderboard, or None to let the view answer (its 400s)."""
    from gamification.serializers import LEADERBOARD_QUERY

    return LEADERBOARD_QUERY.parse_or_none(params)


def experiences_query(params) -> dict | None:
    """``page``/``limit``/``category`` of an unfiltered experiences list; None for any
    other filter too (the view builds those keys: prices and search are normalised)."""
    from experiences.serializers import EXPERIENCE_LIST_QUERY

    q = EXPERIENCE_LIST_QUERY.parse_or_none(params)
    if q is None or q["search"] or (q["min_price"], q["max_price"], q["date"]) != (None,) * 3:
        return None
    return {"page": q["page"], "limit": q["limit"], "category": q["category"]}


def slots_query(params) -> dict | None:
    from experiences.serializers import SLOTS_QUERY

    return SLOTS_QUERY.parse_or_none(params)


def events_query(params) -> dict | None:
    from events.serializers import EVENT_LIST_QUERY

    return EVENT_LIST_QUERY.parse_or_none(params)


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


def stats_body(entries) -> tuple[bytes, str]:
    """The stats routes' body and ETag from the entries of user:{id}:stats and
    user:{id}:rank (their last two), for the hit and the views alike."""
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
    return Plan([keys.user_stats(user_id=user_id), keys.user_rank(user_id=user_id)], stats_body)


def _me_stats(params) -> Plan | None:
    if params:
        return None
    return Plan(
        [], stats_body, auth="required", personal_key=lambda uid: _user_stats(params, uid).keys
    )


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
        personal_key=lambda uid: [keys.user_rsvp_ids(user_id=uid)],
        personal=_events,
    )


def _event(params, event_id: str) -> Plan | None:
    # /api/events/my-rsvps is a route of its own, not an event id.
    if params or not possible_id(event_id) or event_id in _EXCLUDED_EVENT_IDS:
        return None
    return Plan(
        [keys.event_detail(event_id=event_id)],
        _one,
        auth="optional",
        personal_key=lambda uid: [keys.user_rsvp_ids(user_id=uid)],
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
_NO_TOKEN = ""  # no Authorization header, or the demo tokens: the caller is anonymous


def _bearer_user_id(request: HttpRequest) -> str | None:
    """The ``sub`` of a valid access token (verified here, no database); ``_NO_TOKEN``
    for an anonymous caller; None when a token is there but this layer cannot vouch
    for it (bad, expired, or issued some other way): then the view decides.

    A token verified once is remembered by its whole text with its ``iat`` and ``exp``,
    which are checked again on every use, as the verification does."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token or token.startswith("demo_"):
        return _NO_TOKEN
    token = token.strip()
    known = _TOKENS.get(token)
    if known is not None:
        sub, iat, exp = known
        now = time.time()
        if iat <= now < exp:
            return sub
        _TOKENS.pop(token, None)
    from accounts.tokens import access_token_claims_fast

    claims = access_token_claims_fast(token)
    if not claims:
        return None
    _remember(_TOKENS, token, (claims["sub"], claims.get("iat", 0), claims["exp"]))
    return claims["sub"]


class Hit(NamedTuple):
    """A hit found by :func:`lookup`: what :func:`entry_response` (or the WSGI layer's
    own header assembly) answers, and the route template its metrics go under."""

    route: str
    body: bytes
    etag: str
    personal: bool  # the same URL answers per caller: ``Vary: Authorization``


def serve(request) -> HttpResponse | frozenset | None:
    """The hit for ``request`` (a GET under /api/), or what the view must do instead:
    None (a miss or a doubt: the view answers) or the keys due for refresh-ahead (the
    view recomputes them; :data:`refresh_requested` carries them to it)."""
    found = _plan(request.path, request.GET)
    if found is None:
        return None
    outcome = lookup(request, *found)
    if type(outcome) is not Hit:
        return outcome
    response = entry_response(request, outcome.body, outcome.etag, personal=outcome.personal)
    # What the view's answer has besides: DRF's Allow, CommonMiddleware's Content-Length.
    allow = allow_header(outcome.route, request.path_info)
    if allow is not None:
        response["Allow"] = allow
    response["Content-Length"] = str(len(response.content))
    return response


_ALLOW: dict[str, str | None] = {}


def allow_header(route: str, path_info: str) -> str | None:
    """The ``Allow`` header the route's DRF view sets on its responses (its
    ``default_response_headers``), found once per route by resolving ``path_info``;
    None when it resolves to no DRF view."""
    try:
        return _ALLOW[route]
    except KeyError:
        pass
    from django.urls import Resolver404, resolve

    try:
        func = resolve(path_info).func
    except Resolver404:
        func = None
    cls = getattr(func, "cls", None)
    value = None
    if cls is not None:
        view = cls(**getattr(func, "initkwargs", {}))
        actions = dict(getattr(func, "actions", None) or {})
        if "get" in actions and "head" not in actions:  # as ViewSetMixin.as_view binds them
            actions["head"] = actions["get"]
        for method, action in actions.items():
            setattr(view, method, getattr(view, action))
        value = view.default_response_headers.get("Allow")
    _ALLOW[route] = value
    return value


def lookup(request, route: str, plan: Plan) -> Hit | HttpResponse | frozenset | None:
    """:func:`serve` for a request whose route and plan are known: a :class:`Hit`, the
    throttle's refusal, or what the view must do (None, or keys due for refresh-ahead)."""
    user_id = _NO_TOKEN
    if plan.auth != "none" or settings.RATE_LIMITS_ENABLED:
        user_id = _bearer_user_id(request)
        if user_id is None:
            return None  # a token this layer cannot vouch for: the view decides
    if plan.auth == "required" and not user_id:
        return None  # the view answers the 401
    ckeys = plan.keys
    if user_id and plan.auth != "none":
        mine = _user_keys(route, plan, user_id)
        read_keys = ckeys + mine
    else:
        mine = []
        read_keys = ckeys
    read = cache.read_many(read_keys)
    if read is cache.FAILED:
        return None
    entries = [entry for entry, _ in read[0]]
    for entry in entries:
        if entry is cache.MISS or entry.body == b"null":
            return None  # a miss, or a cached "no such row": the view answers
    due = frozenset(k for k, e in zip(read_keys, entries, strict=True) if refresh_due(e))
    if due:
        return due  # refresh-ahead: the view recomputes these, one caller at a time
    personal = False
    if mine:
        auth = orjson.loads(entries[len(ckeys)].body)
        if not auth or not auth.get("is_active"):
            return None
        if plan.auth == "required" and auth.get("banned_at") is not None:
            return None  # the view answers the 403
        personal = plan.personal is not None
    refused = _throttled(request, user_id or None)
    if refused is not None:
        return refused
    for k in read_keys:
        HITS[k.family].inc()
    request.gc_route = route
    if personal:
        body, etag = plan.personal(entries[: len(ckeys)], entries[len(ckeys) + 1 :])
    else:
        body, etag = plan.compose(entries if plan.keys else entries[1:])
    return Hit(route, body, etag, plan.auth != "none")


# Small per-process memos of pure functions of a request's text: a route's plan (its
# keys) by path and query string, a caller's keys by user id, a verified access token's
# claims by the whole token. Bounded (emptied when full), and emptied when a setting
# changes (keys depend on settings: the leaderboard's bands, the token secret).
_MEMO_SIZE = 4096
_PLANS: dict[tuple[str, str], tuple[str, Plan] | None] = {}
_USER_KEYS: dict[tuple[str, str], list[CacheKey]] = {}
_TOKENS: dict[str, tuple[str, int, int]] = {}


def _remember(memo: dict, key, value):
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[key] = value
    return value


def _planned(path: str, query: str, request) -> tuple[str, Plan] | None:
    """:func:`_plan` of a path and query string, remembered (the WSGI layer's)."""
    key = (path, query)
    try:
        return _PLANS[key]
    except KeyError:
        pass
    return _remember(_PLANS, key, _plan(path, request.GET))


def _user_keys(route: str, plan: Plan, user_id: str) -> list[CacheKey]:
    """``user:{id}:auth`` and the route's keys of the caller, remembered."""
    key = (route, user_id)
    mine = _USER_KEYS.get(key)
    if mine is None:
        mine = [keys.user_auth(user_id=user_id), *plan.personal_key(user_id)]
        _remember(_USER_KEYS, key, mine)
    return mine


def _forget(**kwargs) -> None:
    _ALLOW.clear()
    _PLANS.clear()
    _USER_KEYS.clear()
    _TOKENS.clear()


setting_changed.connect(_forget, dispatch_uid="guelaguetza.api.cached._forget")


# Set by the WSGI layer on requests it already looked up, so a miss is not read twice.
CHECKED = "guelaguetza.hit_checked"


def _fall_through(call, *args, outcome):
    """``call(*args)``: the view answers; keys due for refresh-ahead (``outcome``) are
    handed to it for the duration of the call."""
    if not isinstance(outcome, frozenset):
        return call(*args)
    token = refresh_requested.set(outcome)
    try:
        return call(*args)
    finally:
        refresh_requested.reset(token)


class CachedReadMiddleware:
    """Hits of the cached GET routes inside Django's stack (the test client's path and
    any server that does not run :class:`CachedReadApp`); everything else goes on."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method == "GET"
            and request.path.startswith("/api/")
            and settings.CACHE_ENABLED
            and not request.META.get(CHECKED)
            # DRF's test client signs in without a header (force_authenticate): only
            # the view can see that caller.
            and getattr(request, "_force_auth_user", None) is None
        ):
            outcome = serve(request)
            if isinstance(outcome, HttpResponse):
                return outcome
            return _fall_through(self.get_response, request, outcome=outcome)
        return self.get_response(request)


class _Query:
    """The query string as :func:`serve`'s parsers read it (``get``, ``getlist``, ``in``,
    iteration, last value wins): what Django's QueryDict gives, without building one."""

    __slots__ = ("_pairs",)

    def __init__(self, query_string: str) -> None:
        self._pairs: dict[str, list[str]] = {}
        for name, value in parse_qsl(query_string, keep_blank_values=True):
            self._pairs.setdefault(name, []).append(value)

    def __contains__(self, name: str) -> bool:
        return name in self._pairs

    def __iter__(self):
        return iter(self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def __getitem__(self, name: str) -> str:
        return self._pairs[name][-1]

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self._pairs.get(name)
        return values[-1] if values else default

    def getlist(self, name: str) -> list[str]:
        return self._pairs.get(name, [])


class _Request:
    """What :func:`serve` and the header middleware read of a request, straight from
    the WSGI environ: no Django request object is built for a hit. The query string is
    parsed only when a plan is not remembered for it (:func:`_planned`)."""

    __slots__ = ("META", "_GET", "gc_route", "method", "path", "path_info")

    def __init__(self, environ: dict) -> None:
        self.META = environ
        self.method = "GET"
        self.path = self.path_info = environ["PATH_INFO"]
        self._GET = None
        self.gc_route = None

    @property
    def GET(self) -> _Query:
        if self._GET is None:
            self._GET = _Query(self.META.get("QUERY_STRING", ""))
        return self._GET

    @property
    def headers(self) -> _EnvironHeaders:
        return _EnvironHeaders(self.META)

    def is_secure(self) -> bool:
        header = settings.SECURE_PROXY_SSL_HEADER
        if header:
            name, value = header
            return self.META.get(name) == value
        return self.META.get("wsgi.url_scheme") == "https"


class _EnvironHeaders(Mapping):
    """``request.headers`` as Django's HttpHeaders answers a lookup by name (any case),
    without copying the whole environ first."""

    __slots__ = ("_meta",)

    def __init__(self, meta: dict) -> None:
        self._meta = meta

    def __getitem__(self, name: str) -> str:
        key = name.upper().replace("-", "_")
        if key not in HttpHeaders.UNPREFIXED_HEADERS:
            key = HttpHeaders.HTTP_PREFIX + key
        return self._meta[key]

    def __iter__(self):
        return iter(HttpHeaders(self._meta))

    def __len__(self) -> int:
        return len(HttpHeaders(self._meta))


class _Response:
    """The header side of an HttpResponse, for the header middleware to work on."""

    __slots__ = ("headers",)

    def __init__(self, headers: list[tuple[str, str]]) -> None:
        self.headers = ResponseHeaders(headers)

    def has_header(self, name: str) -> bool:
        return name in self.headers

    __contains__ = has_header

    def __getitem__(self, name: str) -> str:
        return self.headers[name]

    def __setitem__(self, name: str, value: str) -> None:
        self.headers[name] = value

    def setdefault(self, name: str, value: str) -> None:
        self.headers.setdefault(name, value)


def _unused(request):  # the header middleware below only post-process responses
    raise AssertionError("not called")


class _Plain:
    """A request as SecurityMiddleware sees it when precomputing its headers."""

    def __init__(self, secure: bool) -> None:
        self.secure = secure

    def is_secure(self) -> bool:
        return self.secure


_JSON = ("Content-Type", "application/json")


class CachedReadApp:
    """The hit path in front of Django (guelaguetza/wsgi.py): a hit is answered with
    the same bytes, headers (CORS, security: in the order Django's stack adds them) and
    metrics as inside Django's stack, but without building Django's request, running
    its signals or its middleware chain, which cost more than the Redis round trip.
    Anything else goes to Django, marked so the middleware does not read the same keys
    again.

    The headers of a hit are assembled here: SecurityMiddleware's, computed from the
    settings when built (again when a setting changes), for a plain and a secure
    request; CorsMiddleware's own code for a request with an ``Origin``; without one,
    only its ``Vary: origin``, when CORS covers the path."""

    def __init__(self, django_app) -> None:
        from corsheaders.middleware import CorsMiddleware

        from guelaguetza.observability.middleware import RequestMetricsMiddleware

        self.django_app = django_app
        self.cors = CorsMiddleware(_unused)
        self.metrics = RequestMetricsMiddleware(_unused)
        self._settings_read()
        setting_changed.connect(self._settings_changed, weak=True)

    def _settings_read(self) -> None:
        from django.middleware.security import SecurityMiddleware

        self.security = SecurityMiddleware(_unused)
        self.security_headers = {
            secure: list(
                self.security.process_response(_Plain(secure), _Response([])).headers.items()
            )
            for secure in (False, True)
        }

    def _settings_changed(self, **kwargs) -> None:
        self._settings_read()

    def __call__(self, environ: dict, start_response):
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or not path.startswith("/api/")
            or not path.isascii()
            # No cached route takes more: let Django apply its own limits to the rest.
            or len(query) > 1024
            or not settings.CACHE_ENABLED
        ):
            return self.django_app(environ, start_response)
        start = time.perf_counter()
        request = _Request(environ)
        if self.security.redirect and not request.is_secure():
            return self.django_app(environ, start_response)  # SECURE_SSL_REDIRECT's 301
        found = _planned(path, query, request)
        outcome = None if found is None else lookup(request, *found)
        environ[CHECKED] = True
        if type(outcome) is Hit:
            status, headers, body = self._hit(request, environ, outcome)
            self.metrics.record(outcome.route, "GET", status, start)
            start_response(_STATUS[status], headers)
            return [body]
        if isinstance(outcome, HttpResponse):  # the throttle's refusal
            response = self.security.process_response(request, outcome)
            response = self.cors.add_response_headers(request, response)
            self.metrics.record(request.gc_route or "unmatched", "GET", response.status_code, start)
            start_response(
                f"{response.status_code} {response.reason_phrase}", list(response.items())
            )
            return [response.content]
        return _fall_through(self.django_app, environ, start_response, outcome=outcome)

    def _hit(self, request: _Request, environ: dict, hit: Hit) -> tuple[int, list, bytes]:
        """What :func:`serve` and then the header middleware would answer."""
        quoted = f'"{hit.etag}"'
        if _etag_matches(environ.get("HTTP_IF_NONE_MATCH"), quoted):
            status, body = 304, b""
            headers = [("ETag", quoted)]
        else:
            status, body = 200, hit.body
            headers = [_JSON, ("ETag", quoted)]
        if hit.personal:
            headers.append(("Vary", "Authorization"))
        allow = allow_header(hit.route, request.path)
        if allow is not None:
            headers.append(("Allow", allow))
        headers.append(("Content-Length", str(len(body))))
        headers += self.security_headers[bool(self.security.sts_seconds) and request.is_secure()]
        if "HTTP_ORIGIN" in environ:
            response = _Response(headers)
            self.cors.add_response_headers(request, response)
            return status, list(response.headers.items()), body
        if self.cors.is_enabled(request):  # all corsheaders adds without an Origin
            if hit.personal:
                headers[headers.index(("Vary", "Authorization"))] = (
                    "Vary",
                    "Authorization, origin",
                )
            else:
                headers.append(("Vary", "origin"))
        return status, headers, body


_STATUS = {200: "200 OK", 304: "304 Not Modified"}


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
