"""Shared fixtures. Tests run against real PostgreSQL and real Redis
(docs/development.md#test-conventions).

The test settings (tests/settings.py) point Redis at the test DB; it is flushed before
each test. Helpers (signed-in clients, response envelopes) are in tests/helpers.py.

Invalidation runs in ``transaction.on_commit``. In a plain ``db`` test every write is
inside the test's wrapping transaction, which never commits: a test that checks that a
write makes the next read fresh through on_commit uses ``django_db(transaction=True)``.
"""

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from tests.helpers import client_for


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


@pytest.fixture
def auth_client(user) -> APIClient:
    return client_for(user)
