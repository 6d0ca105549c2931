"""The base of every API view (guelaguetza/api/views.py): rate limits run before the
permission check, for every view routed under /api; /api/auth/me for a deleted user;
the rate limiter's Redis outage logs one line per breaker transition."""

import logging
import time

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.views import APIView

from accounts.models import User
from accounts.tokens import access_token_issue
from guelaguetza.api import throttling
from guelaguetza.api.views import ApiViewMixin
from tests.cache.redis_server import RedisProcess
from tests.factories import UserFactory
from tests.helpers import FakeClock

LIMITS = {"RATE_LIMITS_ENABLED": True, "RATE_LIMIT_GLOBAL": "3/min",
          "RATE_LIMIT_AUTH": "2/min", "RATE_LIMIT_BOOKINGS": "2/min"}  # fmt: skip
# Schema and docs: static, no permission to order the limiter before.
EXEMPT = (SpectacularAPIView, SpectacularSwaggerView)


def _api_views(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _api_views(entry, route)
        elif isinstance(entry, URLPattern) and route.lstrip("^").startswith("api/"):
            cls = getattr(entry.callback, "cls", None)
            if cls is not None and issubclass(cls, APIView):
                yield route, cls, entry.callback


def test_every_drf_view_under_api_derives_from_the_api_base():
    views = list(_api_views())
    assert len(views) > 20
    strays = [r for r, cls, _ in views if not issubclass(cls, (ApiViewMixin, *EXEMPT))]
    assert strays == []


@pytest.mark.django_db
@override_settings(**LIMITS)
def test_rate_limit_runs_before_the_permission_check_for_anonymous_callers(api_client):
    statuses = [api_client.get("/api/gamification/me/stats").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    refused = api_client.get("/api/auth/me")
    assert refused.status_code == 429 and refused["Retry-After"]


@pytest.mark.django_db
@override_settings(**LIMITS)
def test_rate_limit_runs_before_the_permission_check_for_banned_users(api_client):
    token = access_token_issue(UserFactory(banned_at=timezone.now())).token
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    statuses = [api_client.post("/api/gamification/me/check-in").status_code for _ in range(4)]
    assert statuses == [403, 403, 403, 429]


@pytest.mark.django_db
@override_settings(**{**LIMITS, "RATE_LIMIT_GLOBAL": "100/min"})
def test_refused_bookings_posts_count_against_the_bookings_limit(api_client):
    statuses = [api_client.post("/api/bookings/bookings").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


# -- /api/auth/me of a deleted user: 404 "Usuario no encontrado" (docs/api.md#get-auth-me)
@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "put"])
def test_me_of_a_deleted_user_is_404_user_not_found(api_client, method):
    user = UserFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_issue(user).token}")
    user.delete()
    response = getattr(api_client, method)("/api/auth/me", {}, format="json")
    assert response.status_code == 404
    assert response.json() == {
        "success": False,
        "error": "Usuario no encontrado",
        "message": "Usuario no encontrado",
    }
    # Other required-auth routes keep the 401 of docs/api.md#authentication for the same token.
    assert api_client.get("/api/gamification/me/stats").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_me_of_a_user_deleted_through_django_is_404_even_after_caching(api_client):
    user = UserFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_issue(user).token}")
    assert api_client.get("/api/auth/me").status_code == 200  # user:{id}:auth cached
    user.delete()
    assert api_client.get("/api/auth/me").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_user_deleted_outside_django_keeps_access_until_the_auth_cache_expires(
    api_client, redis_client, settings
):
    # What the README states: a row deleted by SQL sends no signal, so the cached
    # user:{id}:auth lives out its TTL (CACHE_TTLS["user_auth"], +-10 % jitter).
    user = UserFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_issue(user).token}")
    assert api_client.get("/api/auth/me").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_user WHERE id = %s", [user.pk])
    assert not User.objects.filter(pk=user.pk).exists()
    assert api_client.get("/api/auth/me").status_code == 200  # still cached
    key = f"{settings.CACHE_KEY_PREFIX}user:{user.pk}:auth"
    ttl = redis_client.ttl(key)
    assert 0 < ttl <= settings.CACHE_TTLS["user_auth"] * (1 + settings.CACHE_TTL_JITTER)
    redis_client.delete(key)  # what expiry does
    assert api_client.get("/api/auth/me").status_code == 404


# -- the rate limiter during a Redis outage ----------------------------------------------
@pytest.mark.django_db
def test_redis_outage_logs_one_line_per_breaker_transition_not_a_traceback_per_request(
    api_client, caplog, tmp_path, settings
):
    server = RedisProcess(tmp_path)
    server.start()
    try:
        caches = {"default": {**settings.CACHES["default"], "LOCATION": server.url}}
        with override_settings(**{**LIMITS, "RATE_LIMIT_GLOBAL": "1000/min"}, CACHES=caches):
            throttling.breaker.clock = clock = FakeClock()
            caplog.set_level(logging.DEBUG, logger="guelaguetza")
            assert api_client.get("/api/health").status_code == 200  # plain view: no limiter
            assert api_client.get("/api/events").status_code == 200
            server.kill()
            for _ in range(10):  # 3 failures open the breaker, 7 skip Redis
                assert api_client.get("/api/events").status_code == 200
            assert throttling.breaker.state == "open"
            clock.now += settings.CACHE_BREAKER_RESET_SECONDS
            assert api_client.get("/api/events").status_code == 200  # the probe: fails
            server.start()  # same port
            clock.now += settings.CACHE_BREAKER_RESET_SECONDS
            assert api_client.get("/api/events").status_code == 200  # the probe: answers
            assert throttling.breaker.state == "closed"
    finally:
        server.kill()
        throttling.breaker.clock = time.monotonic

    mine = [r for r in caplog.records if r.name == "guelaguetza.api.throttling"]
    shown = [r for r in mine if r.levelno >= logging.INFO]
    messages = [r.getMessage() for r in shown]
    assert len(messages) == 3, messages  # opened, re-opened by the failed probe, closed
    assert messages[0].startswith("rate limits: Redis unreachable (ConnectionError: ")
    assert messages[1].startswith("rate limits: Redis unreachable (")
    assert messages[2] == "rate limits: Redis answers again; limits enforced"
    assert all(r.exc_info is None for r in shown)
    # The tracebacks are still there for whoever turns DEBUG on: one per failed call.
    assert len([r for r in mine if r.levelno == logging.DEBUG and r.exc_info]) == 4


@pytest.mark.django_db
def test_api_views_stay_csrf_exempt_behind_the_retry_wrapper():
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/auth/login", {}, content_type="application/json")
    assert response.status_code == 422  # validated, not Django's CSRF 403 page
    assert all(getattr(view, "csrf_exempt", False) for _, _, view in _api_views())
