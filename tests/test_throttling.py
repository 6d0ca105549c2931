"""Rate limits (docs/api.md#rate-limits): scopes, 429 body and headers, identity, fail-open."""

import socket

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import path
from prometheus_client import REGISTRY
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.tokens import access_token_issue
from guelaguetza import health
from guelaguetza.api import throttling
from guelaguetza.api.throttling import parse_rate
from tests.factories import UserFactory


class Probe(APIView):
    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("api/probe", Probe.as_view()),
    path("api/bookings/probe", Probe.as_view()),
    path("api/auth/login", Probe.as_view()),
    path("health", health.health),
]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]
LIMITS = {"RATE_LIMITS_ENABLED": True, "RATE_LIMIT_GLOBAL": "3/min",
          "RATE_LIMIT_AUTH": "2/min", "RATE_LIMIT_BOOKINGS": "2/min"}  # fmt: skip


def _statuses(client, method, url, n, **extra):
    return [getattr(client, method)(url, **extra).status_code for _ in range(n)]


@override_settings(**LIMITS)
def test_global_limit_gives_429_with_body_and_headers(api_client):
    assert _statuses(api_client, "get", "/api/probe", 3) == [200, 200, 200]
    response = api_client.get("/api/probe")
    assert response.status_code == 429
    body = response.json()
    assert body["success"] is False
    assert body["error"] == body["message"]
    assert body["statusCode"] == 429 and body["limit"] == 3 and body["remaining"] == 0
    assert 1 <= body["retryAfter"] <= 61 and "resetTime" in body
    assert response["X-RateLimit-Limit"] == "3"
    assert response["X-RateLimit-Remaining"] == "0"
    assert int(response["X-RateLimit-Reset"]) == body["retryAfter"]
    assert response["Retry-After"] == str(body["retryAfter"])


@override_settings(**{**LIMITS, "RATE_LIMIT_GLOBAL": "100/min"})
def test_login_has_its_own_stricter_limit(api_client):
    assert _statuses(api_client, "post", "/api/auth/login", 3) == [200, 200, 429]
    assert "resetTime" not in api_client.post("/api/auth/login").json()


@override_settings(**{**LIMITS, "RATE_LIMIT_GLOBAL": "100/min"})
def test_bookings_posts_have_their_own_limit(api_client):
    assert _statuses(api_client, "post", "/api/bookings/probe", 3) == [200, 200, 429]


@override_settings(**{**LIMITS, "RATE_LIMIT_GLOBAL": "100/min"})
def test_bookings_gets_are_not_in_the_bookings_scope(api_client):
    assert _statuses(api_client, "get", "/api/bookings/probe", 4) == [200] * 4


@override_settings(**LIMITS)
def test_health_is_exempt(api_client):
    assert _statuses(api_client, "get", "/health", 5) == [200] * 5


@override_settings(**LIMITS)
def test_signed_in_users_are_counted_per_user_not_per_address(api_client):
    a, b = UserFactory(), UserFactory()
    for user in (a, b):
        token = access_token_issue(user).token
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        assert _statuses(api_client, "get", "/api/probe", 3, **auth) == [200] * 3
    assert api_client.get("/api/probe").status_code == 200  # anonymous: its own counter


@override_settings(**LIMITS)
def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(api_client):
    spoof = [{"HTTP_X_FORWARDED_FOR": f"10.0.0.{i}"} for i in range(4)]
    codes = [api_client.get("/api/probe", **h).status_code for h in spoof]
    assert codes == [200, 200, 200, 429]


@override_settings(**LIMITS, TRUSTED_PROXIES=["127.0.0.1"])
def test_trusted_proxy_forwarded_address_is_the_client(api_client):
    for i in range(4):
        headers = {"HTTP_X_FORWARDED_FOR": f"203.0.113.{i}, 127.0.0.1"}
        assert api_client.get("/api/probe", **headers).status_code == 200


@override_settings(**LIMITS, TRUSTED_PROXIES=["not-a-network", "127.0.0.0/8"])
def test_trusted_proxies_may_be_networks_and_bad_entries_are_skipped(api_client):
    for i in range(4):
        headers = {"HTTP_X_FORWARDED_FOR": f"203.0.113.{i}, 127.0.0.9"}
        assert api_client.get("/api/probe", **headers).status_code == 200


def test_rates_parse_like_the_settings_spell_them():
    assert parse_rate("100/min") == parse_rate("100/m") == parse_rate("100/minute")
    assert parse_rate("5/min").period == 60 and parse_rate("5/min").limit == 5
    assert parse_rate("10/30s").period == 30
    assert parse_rate("1/h").period == 3600


def test_redis_down_fails_open_and_counts_the_failure(api_client):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    caches = {"default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{port}/0"}}
    before = REGISTRY.get_sample_value("guelaguetza_rate_limit_errors_total") or 0
    with override_settings(**LIMITS, CACHES=caches):
        assert _statuses(api_client, "get", "/api/probe", 5) == [200] * 5
        # After CACHE_BREAKER_FAILURES (3) failures the breaker skips Redis entirely.
        assert throttling.breaker.state == "open"
        assert throttling.breaker.skipped == 2
    after = REGISTRY.get_sample_value("guelaguetza_rate_limit_errors_total")
    assert after == before + 5
    assert throttling.breaker.state == "closed"  # settings restored: fresh start
