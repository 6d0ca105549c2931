"""Fixtures of the cache-layer tests.

``private_redis`` is a redis-server of our own on a free port, for the tests that kill
it, pause it (SIGSTOP) and restart it: the shared server is never touched. Whatever a
test does, the finalizer resumes (SIGCONT) and kills it.
"""

from __future__ import annotations

import pytest

from guelaguetza.cache import CacheService, cache
from tests.cache.redis_server import RedisProcess
from tests.helpers import FakeClock, Metric


@pytest.fixture
def private_redis(tmp_path):
    server = RedisProcess(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def private_cache(private_redis, settings):
    """A CacheService on the private server, with short timeouts and breaker reset."""
    settings.CACHE_SOCKET_TIMEOUT = 0.1
    settings.CACHE_CONNECT_TIMEOUT = 0.1
    settings.CACHE_BREAKER_FAILURES = 3
    settings.CACHE_BREAKER_RESET_SECONDS = 0.3
    service = CacheService(redis_url=private_redis.url, prefix="guelaguetza:")
    # The breaker's time is driven by hand (service.breaker.clock.now += ...), so an
    # open breaker cannot half-open behind a test's back on a slow machine.
    service.breaker.clock = FakeClock()
    yield service
    service.reset()


@pytest.fixture(autouse=True)
def _closed_breaker():
    cache.breaker.reset()
    yield
    cache.breaker.reset()


@pytest.fixture
def metric():
    return Metric
