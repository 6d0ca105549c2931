"""Shared fixtures. Tests run against real PostgreSQL and real Redis
(docs/development.md#test-conventions).

Redis: the cache layer and Django's cache use DB ``REDIS_TEST_DB`` (1 by default) of the
server in REDIS_URL, flushed before the session and before each test. Concurrent test
runs on one machine set their own REDIS_TEST_DB and TEST_DATABASE_NAME.

Invalidation runs in ``transaction.on_commit``. In a plain ``db`` test every write is
inside the test's wrapping transaction, which never commits: a test that checks that a
write makes the next read fresh through on_commit uses ``django_db(transaction=True)``.
"""

import os
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient


def _with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


# Before anything connects: point every Redis user at the test DB, make hashing cheap
# and turn throttling off (throttle tests turn it back on).
settings.REDIS_URL = _with_db(settings.REDIS_URL, int(os.environ.get("REDIS_TEST_DB", "1")))
settings.CACHES["default"]["LOCATION"] = settings.REDIS_URL
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
settings.RATE_LIMITS_ENABLED = False


@pytest.fixture(scope="session")
def redis_client():
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()


@pytest.fixture(autouse=True)
def _flush_redis(redis_client):
    redis_client.flushdb()
    yield


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    from tests.factories import UserFactory

    return UserFactory()


def client_for(user) -> APIClient:
    """A client signed in as ``user`` (authentication itself is tested in tests/accounts)."""
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def auth_client(user) -> APIClient:
    return client_for(user)


# -- response envelopes (docs/api.md#errors), shared by the apps' contract tests -----------------
def data_of(response):
    """``data`` of a 200 ``{success: true, data}`` body (exactly those two keys)."""
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"success", "data"} and body["success"] is True
    return body["data"]


def assert_error(response, status: int, message: str | None = None) -> dict:
    """An error body: ``{success: false, error, message[, details]}``, error == message."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) - {"details"} == {"success", "error", "message"}
    assert body["success"] is False and body["error"] == body["message"]
    if message is not None:
        assert body["message"] == message
    return body
