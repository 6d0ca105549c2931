"""The hit path in front of Django (guelaguetza.wsgi.application) answers a hit exactly
as Django's own stack does: the same status, bytes and headers (CORS, security, Vary,
ETag), and it counts the request under its route in the same metrics."""

import io
import sys

import orjson
import pytest
from django.test import Client

from accounts.tokens import access_token_issue
from guelaguetza.observability import metrics
from guelaguetza.wsgi import application
from tests.factories import EventFactory, UserStatsFactory

BOARD = ("/api/gamification/leaderboard", "page=1&limit=5")


@pytest.fixture(autouse=True)
def _keep_the_tests_connection():
    """As Django's test client does: a request must not close the test's connection
    (request_started/finished close old connections; this one holds the test's
    transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def wsgi_get(path: str, query: str = "", **headers) -> tuple[int, dict, bytes]:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        **headers,
    }
    seen = {}

    def start_response(status, header_list, exc_info=None):
        seen["status"] = int(status.split()[0])
        seen["headers"] = {k.lower(): v for k, v in header_list}

    chunks = application(environ, start_response)
    body = b"".join(chunks)
    getattr(chunks, "close", lambda: None)()
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
