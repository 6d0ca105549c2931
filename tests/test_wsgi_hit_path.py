"""The hit path in front of Django (guelaguetza.wsgi.application) answers a hit exactly
as Django's own stack does: the same status, bytes and headers (CORS, security, Vary,
ETag), and it counts the request under its route in the same metrics."""

import time

import orjson
import pytest
from django.test import Client

from accounts.tokens import access_token_issue
from guelaguetza.observability import metrics
from guelaguetza.wsgi import application
from tests.factories import EventFactory, UserStatsFactory
from tests.helpers import wsgi_environ

BOARD = ("/api/gamification/leaderboard", "page=1&limit=5")


def call(app, environ: dict, start_response):
    """``app(environ, start_response)`` as Django's test client runs its handler: a
    request that reaches Django must not close the test's connection (request_started
    and request_finished close old connections; this one holds the test's transaction).
    Disconnected around each call, since the test client connects them back after its
    own requests."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = app(environ, start_response)
        try:
            return b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()  # request_finished, as a server does
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def wsgi_get(path: str, query: str = "", **headers) -> tuple[int, dict, bytes]:
    environ = wsgi_environ(path, query, **headers)
    seen = {}

    def start_response(status, header_list, exc_info=None):
        seen["status"] = int(status.split()[0])
        seen["headers"] = {k.lower(): v for k, v in header_list}

    body = call(application, environ, start_response)
    return seen["status"], seen["headers"], body


def django_get(path: str, query: str = "", **headers):
    response = Client().get(path + ("?" + query if query else ""), **headers)
    return response.status_code, {k.lower(): v for k, v in response.items()}, response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_ORIGIN": "http://localhost:3000"},  # a dev origin CORS allows
        {"HTTP_ORIGIN": "https://elsewhere.example"},
    ],
)
def test_a_hit_in_front_of_django_is_the_response_django_gives(headers):
    UserStatsFactory(xp=10)
    django_get(*BOARD)  # the miss: Django stores the page
    ours = wsgi_get(*BOARD, **headers)
    theirs = django_get(*BOARD, **headers)
    assert ours == theirs
    assert ours[1]["etag"].startswith('"')


@pytest.mark.django_db
def test_304_and_personal_hits_match_too():
    UserStatsFactory(xp=10)
    etag = django_get(*BOARD)[1]["etag"]  # the miss: Django stores the page
    assert wsgi_get(*BOARD, HTTP_IF_NONE_MATCH=etag) == django_get(*BOARD, HTTP_IF_NONE_MATCH=etag)
    stats = UserStatsFactory(xp=20)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {access_token_issue(stats.user).token}"}
    EventFactory()
    for path in ("/api/gamification/me/stats", "/api/events"):
        django_get(path, **auth)
        assert wsgi_get(path, **auth) == django_get(path, **auth)
    assert orjson.loads(wsgi_get("/api/gamification/me/stats", **auth)[2])["data"]["xp"] == 20


@pytest.mark.django_db
def test_a_hit_in_front_of_django_is_counted_under_its_route():
    UserStatsFactory(xp=10)
    django_get(*BOARD)
    counter = metrics.http_requests_total.labels("GET", "/api/gamification/leaderboard", "200")
    before = counter._value.get()
    wsgi_get(*BOARD)
    assert counter._value.get() == before + 1


@pytest.mark.django_db
def test_everything_else_goes_to_django():
    status, _, body = wsgi_get("/api/gamification/leaderboard", "limit=abc")
    assert status == 400 and orjson.loads(body)["success"] is False
    assert wsgi_get("/health")[0] in (200, 503)


# -- every cached route: the hit in front of Django, inside Django, and the view's answer --
def wsgi_items(path: str, query: str = "", app=None, **headers) -> tuple[int, list, bytes]:
    """Like :func:`wsgi_get`, with the header list as sent (names and order kept)."""
    seen = {}
    environ = wsgi_environ(path, query, **headers)

    def start_response(status, header_list, exc_info=None):
        seen["status"] = int(status.split()[0])
        seen["headers"] = list(header_list)

    body = call(app or application, environ, start_response)
    return seen["status"], seen["headers"], body


def django_items(path: str, query: str = "", **headers) -> tuple[int, list, bytes]:
    response = Client().get(path + ("?" + query if query else ""), **headers)
    return response.status_code, list(response.items()), response.content


@pytest.fixture
def hits(monkeypatch):
    """What the hit layer's lookups answered, in order ("hit" or "fall through")."""
    from guelaguetza.api import cached

    seen = []
    real = cached.lookup

    def spy(*args):
        outcome = real(*args)
        seen.append("hit" if type(outcome) is cached.Hit else "fall through")
        return outcome

    monkeypatch.setattr(cached, "lookup", spy)
    return seen


HEADER_CASES = {
    "no origin": {},
    "allowed origin": {"HTTP_ORIGIN": "http://localhost:3000"},
    "other origin": {"HTTP_ORIGIN": "https://elsewhere.example"},
    "empty origin": {"HTTP_ORIGIN": ""},
}


def _routes():
    """(path, query, signed in) of every cached route, and whether its view answers
    with the stored entry (entry_response) on a miss, so miss and hit must agree."""
    from tests.factories import ExperienceFactory, TimeSlotFactory, UserBadgeFactory

    stats = UserStatsFactory(xp=30)
    UserStatsFactory(xp=10)
    UserBadgeFactory(user=stats.user)
    event = EventFactory()
    slot = TimeSlotFactory(experience=ExperienceFactory())
    experience = slot.experience
    day = slot.date.isoformat()
    token = access_token_issue(stats.user).token
    return token, [
        ("/api/gamification/leaderboard", "page=1&limit=5", False, True),
        (f"/api/gamification/users/{stats.user.pk}/stats", "", False, True),
        ("/api/gamification/me/stats", "", True, True),
        ("/api/gamification/me/badges", "", True, True),
        ("/api/gamification/badges", "", True, True),
        ("/api/bookings/experiences", "limit=5", False, True),
        (f"/api/bookings/experiences/{experience.pk}", "", False, True),
        (f"/api/bookings/experiences/{experience.pk}/slots", f"startDate={day}", False, True),
        ("/api/events", "", True, True),
        ("/api/events", "", False, True),
        (f"/api/events/{event.pk}", "", True, True),
    ]


@pytest.mark.django_db
def test_every_cached_route_answers_a_hit_as_django_does(hits):
    """The WSGI layer's hit, the same hit inside Django's stack and, for views that
    answer with the stored entry, the view's own answer: same status, body and header
    list (order included), with and without an Origin, and as a 304 for the ETag."""
    from guelaguetza.api.cached import CHECKED

    token, routes = _routes()

    def answers(path, query, headers, view_serves_entry):
        hits.clear()
        ours = wsgi_items(path, query, **headers)
        assert django_items(path, query, **headers) == ours, (path, headers)
        assert hits == ["hit", "hit"], (path, headers, hits)
        if view_serves_entry:  # the hit layer steps aside (CHECKED): the view answers
            assert django_items(path, query, **headers, **{CHECKED: True}) == ours
        return ours

    for path, query, signed_in, view_serves_entry in routes:
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if signed_in else {}
        assert django_items(path, query, **auth)[0] == 200, path  # the miss stores it
        for origin in HEADER_CASES.values():
            ours = answers(path, query, {**auth, **origin}, view_serves_entry)
            assert ours[0] == 200
            etag = dict(ours[1]).get("ETag")
            if etag is not None:
                conditional = {**auth, **origin, "HTTP_IF_NONE_MATCH": etag}
                ours = answers(path, query, conditional, view_serves_entry)
                assert ours[0] == 304 and ours[2] == b""


@pytest.mark.django_db
def test_the_hit_headers_follow_the_settings(settings):
    """Security and CORS settings changed at run time reach the WSGI layer's hits."""
    UserStatsFactory(xp=10)
    django_items(*BOARD)  # the miss: Django stores the page
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_REFERRER_POLICY = "no-referrer"
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]
    for headers in (
        {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_ORIGIN": "https://app.example"},
        {"HTTP_ORIGIN": "http://localhost:3000"},
    ):
        ours = wsgi_items(*BOARD, **headers)
        assert ours == django_items(*BOARD, **headers)
    secure = dict(wsgi_items(*BOARD, HTTP_X_FORWARDED_PROTO="https")[1])
    assert secure["Strict-Transport-Security"] == "max-age=3600"
    assert secure["Referrer-Policy"] == "no-referrer"
    assert "Strict-Transport-Security" not in dict(wsgi_items(*BOARD)[1])


@pytest.mark.django_db
def test_ssl_redirect_applies_to_hits_as_inside_django(settings):
    UserStatsFactory(xp=10)
    django_items(*BOARD)  # the miss: Django stores the page
    settings.SECURE_SSL_REDIRECT = True
    # Django's handler reads its middleware's settings once: a server started now.
    from django.core.wsgi import get_wsgi_application

    from guelaguetza.api.cached import CachedReadApp

    app = CachedReadApp(get_wsgi_application())
    ours = wsgi_items(*BOARD, app=app)
    assert ours[0] == 301 and ours == django_items(*BOARD)
    secure = {"wsgi.url_scheme": "https", "SERVER_PORT": "443"}
    assert wsgi_items(*BOARD, app=app, **secure)[0] == 200


@pytest.mark.django_db
def test_a_remembered_token_is_refused_once_expired(monkeypatch):
    """The hit layer remembers verified tokens, but checks their expiry on every use."""
    from guelaguetza.api import cached

    stats = UserStatsFactory(xp=10)
    issued = access_token_issue(stats.user)
    token = issued.token
    request = cached._Request({"PATH_INFO": "/", "HTTP_AUTHORIZATION": f"Bearer {token}"})
    assert cached._bearer_user_id(request) == stats.user.pk
    assert token in cached._TOKENS
    exp = cached._TOKENS[token][2]
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: exp + 1)
    assert cached._bearer_user_id(request) is None
    assert token not in cached._TOKENS
    monkeypatch.setattr(time, "time", lambda: now)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    request.META["HTTP_AUTHORIZATION"] = f"Bearer {forged}"
    assert cached._bearer_user_id(request) is None
