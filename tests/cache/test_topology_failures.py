"""Topology errors are failures (docs/cache.md, "Redis topologies"): a demoted master
(READONLY) opens the breaker, counts in cache_errors_total and turns /health's redis
check to "error"; invalidations kept from a failure never stand in front of reads."""

from __future__ import annotations

import time

import pytest
import redis

from guelaguetza.cache import CacheService, keys
from guelaguetza.cache.breaker import OPEN
from guelaguetza.cache.transport import is_topology_error
from tests.cache.redis_server import RedisProcess
from tests.helpers import FakeClock

KEY = keys.user_stats(user_id="u1")
OTHER = keys.user_stats(user_id="u2")


@pytest.fixture
def demoted(tmp_path, private_redis):
    """A second private redis-server made a replica of ``private_redis``: what a master
    demoted by a failover looks like to a client that still points at it."""
    (tmp_path / "replica").mkdir()
    replica = RedisProcess(tmp_path / "replica")
    replica.start()
    try:
        redis.Redis.from_url(replica.url).replicaof("127.0.0.1", private_redis.port)
        yield replica
    finally:
        replica.kill()


def service_on(url: str) -> CacheService:
    service = CacheService(redis_url=url, prefix="guelaguetza:")
    service.breaker.clock = FakeClock()
    return service


def replicated(replica: RedisProcess, name: str) -> None:
    client = redis.Redis.from_url(replica.url)
    deadline = time.monotonic() + 10
    while client.get(name) is None:
        assert time.monotonic() < deadline, "replication did not catch up"
        time.sleep(0.05)


@pytest.mark.parametrize(
    "reply",
    [
        "READONLY You can't write against a read only replica.",
        "CROSSSLOT Keys in request don't hash to the same slot",
        "MOVED 3999 127.0.0.1:6381",
        "ASK 3999 127.0.0.1:6381",
        "CLUSTERDOWN The cluster is down",
        "MASTERDOWN Link with MASTER is down",
    ],
)
def test_topology_replies_are_classified_as_failures(reply):
    assert is_topology_error(redis.ResponseError(reply))


def test_an_ordinary_error_reply_is_not_a_topology_failure():
    assert not is_topology_error(redis.ResponseError("OOM command not allowed"))
    assert not is_topology_error(redis.ResponseError("WRONGTYPE Operation"))


def test_writes_to_a_demoted_master_open_the_breaker_and_count_as_errors(
    private_redis, demoted, settings, metric
):
    settings.CACHE_BREAKER_FAILURES = 3
    service = service_on(demoted.url)
    errors = metric("cache_errors_total", service=KEY.family.service)
    try:
        for n in range(3):
            service.set(keys.user_stats(user_id=f"w{n}"), n)  # READONLY each time
        assert service.breaker.state == OPEN
        assert errors.delta() == 3
    finally:
        service.reset()


def test_the_probe_does_not_close_the_breaker_on_a_demoted_master(private_redis, demoted):
    service = service_on(demoted.url)
    try:
        assert service._probe() is False
        assert service_on(private_redis.url)._probe() is True
    finally:
        service.reset()


@pytest.mark.django_db
def test_health_reports_redis_error_when_the_cache_points_at_a_demoted_master(
    private_redis, demoted, settings, client
):
    settings.REDIS_URL = demoted.url
    body = client.get("/health").json()
    assert body["checks"]["redis"] == "error"
    assert body["status"] == "degraded"
    settings.REDIS_URL = private_redis.url
    assert client.get("/health").json()["checks"]["redis"] == "ok"


def test_a_read_behind_a_kept_invalidation_is_a_miss_and_others_still_hit(
    private_redis, demoted, settings
):
    settings.CACHE_BREAKER_FAILURES = 100  # keep it closed: this is about the queue
    settings.CACHE_REPLAY_INTERVAL_SECONDS = 3600
    master = service_on(private_redis.url)
    master.set(KEY, "old")
    master.set(OTHER, "other")
    replicated(demoted, "guelaguetza:" + OTHER)
    replicated(demoted, "guelaguetza:" + KEY)
    service = service_on(demoted.url)
    try:
        assert service.get(KEY) == "old"
        service.invalidate("user:u1:*")  # READONLY: kept for replay
        assert service._pending
        calls = service.network_calls
        for _ in range(5):
            assert service.get(KEY) is None  # never the value the invalidation clears
            assert service.get(OTHER) == "other"  # reads go on, not blocked by the queue
        # one round trip per read: the queue was not retried in front of each of them
        assert service.network_calls - calls == 10
        assert service._pending
    finally:
        service.reset()
        master.reset()


def test_kept_invalidations_are_replayed_once_redis_takes_writes_again(
    private_redis, demoted, settings
):
    settings.CACHE_BREAKER_FAILURES = 100
    settings.CACHE_REPLAY_INTERVAL_SECONDS = 0
    master = service_on(private_redis.url)
    master.set(KEY, "old")
    replicated(demoted, "guelaguetza:" + KEY)
    service = service_on(demoted.url)
    try:
        service.invalidate("user:u1:*")
        assert service._pending
        redis.Redis.from_url(demoted.url).replicaof("NO", "ONE")  # promoted
        assert service.get(KEY) is None
        assert not service._pending
        assert service.wrap(KEY, lambda: "new") == "new"
        assert service.get(KEY) == "new"
    finally:
        service.reset()
        master.reset()


def test_the_probe_replays_kept_invalidations_and_stays_open_if_they_fail(
    private_redis, demoted, settings
):
    settings.CACHE_BREAKER_FAILURES = 100
    master = service_on(private_redis.url)
    master.set(KEY, "old")
    replicated(demoted, "guelaguetza:" + KEY)
    service = service_on(demoted.url)
    try:
        service.invalidate("user:u1:*")  # READONLY: kept
        redis.Redis.from_url(demoted.url).replicaof("NO", "ONE")
        assert service._probe() is True  # a master again: the probe wrote the queue
        assert not service._pending
        assert service.get(KEY) is None
    finally:
        service.reset()
        master.reset()
