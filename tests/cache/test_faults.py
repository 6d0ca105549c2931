"""Redis failure: a private redis-server killed, hung (SIGSTOP) and restarted.

Every call degrades (wrap -> the loader's value, get -> the default, invalidation ->
kept for later), no exception escapes, and once the circuit breaker is open a call
makes no network call at all. Assertions are on the breaker and on counters of
network attempts, never on elapsed time; the breaker's clock is moved by hand.
"""

import time

import pytest
import redis
import redis.connection

from guelaguetza.cache import CacheService, keys
from guelaguetza.cache.breaker import CLOSED, OPEN

KEY = keys.user_stats(user_id="u1")


class Attempts:
    """Counts redis-py's TCP connects and the MGETs it sends (instrumentation only)."""

    def __init__(self, monkeypatch) -> None:
        self.connects = self.mgets = 0
        cls = redis.connection.Connection
        connect, send = cls._connect, cls.send_command

        def counting_connect(conn, *a, **kw):
            self.connects += 1
            return connect(conn, *a, **kw)

        def counting_send(conn, *args, **kw):
            self.mgets += args[0] == "MGET"
            return send(conn, *args, **kw)

        monkeypatch.setattr(cls, "_connect", counting_connect)
        monkeypatch.setattr(cls, "send_command", counting_send)

    @property
    def total(self) -> int:
        return self.connects + self.mgets


def wait_for(condition, *, seconds: float = 5.0) -> None:
    """Wait for the breaker's background probe to report (synchronisation, not timing)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the probe never reported"
        time.sleep(0.01)


def every_call(service: CacheService) -> dict:
    """Every public call of the cache; what the reads returned."""
    out = {
        "wrap": service.wrap(KEY, lambda: {"from": "db"}),
        "get": service.get(KEY, default="default"),
        "ttl": service.ttl(KEY),
        "key_count": service.key_count(),
    }
    service.set(KEY, {"x": 1})
    service.delete(KEY)
    service.delete_many([KEY])
    service.invalidate("user:u1:*")
    service.cascade("xp_added", user_id="u1")
    return out


DEGRADED = {"wrap": {"from": "db"}, "get": "default", "ttl": None, "key_count": None}


def assert_breaker_open_and_silent(service: CacheService, attempts: Attempts) -> None:
    assert service.breaker.state == OPEN
    calls, skipped, tcp = service.network_calls, service.breaker.skipped, attempts.total
    for _ in range(5):
        assert every_call(service) == DEGRADED
    assert service.network_calls == calls  # no network call while open
    assert attempts.total == tcp
    assert service.breaker.skipped > skipped


def test_one_attempt_per_call_when_refused(private_redis, private_cache, settings, monkeypatch):
    settings.CACHE_BREAKER_FAILURES = 1000  # keep it closed: count redis-py's attempts
    private_cache.set(KEY, {"x": 1})
    private_redis.kill()
    attempts = Attempts(monkeypatch)
    for n in range(1, 4):
        assert private_cache.get(KEY, default="default") == "default"
        assert attempts.connects == n  # one connect each, no hidden Retry


def test_one_attempt_per_call_when_hung(private_redis, private_cache, settings, monkeypatch):
    settings.CACHE_BREAKER_FAILURES = 1000
    private_cache.set(KEY, {"x": 1})  # a pooled connection that will hang
    private_redis.stop()
    attempts = Attempts(monkeypatch)
    for n in range(1, 4):
        assert private_cache.get(KEY, default="default") == "default"
        # Either the MGET on the pooled connection or a fresh connect times out:
        # exactly one of the two per call.
        assert attempts.total == n


def test_killed_server_every_call_degrades_then_the_breaker_skips_redis(
    private_redis, private_cache, monkeypatch, metric
):
    errors = metric("cache_errors_total", service="gamification")
    assert private_cache.wrap(KEY, lambda: {"from": "cache"}) == {"from": "cache"}
    private_redis.kill()
    attempts = Attempts(monkeypatch)
    assert every_call(private_cache) == DEGRADED  # 3 failures open the breaker
    assert errors.delta() >= 3
    assert_breaker_open_and_silent(private_cache, attempts)


def test_hung_server_every_call_degrades_then_the_breaker_skips_redis(
    private_redis, private_cache, monkeypatch, metric
):
    errors = metric("cache_errors_total", service="gamification")
    assert private_cache.wrap(KEY, lambda: {"from": "cache"}) == {"from": "cache"}
    private_redis.stop()
    attempts = Attempts(monkeypatch)
    assert every_call(private_cache) == DEGRADED
    assert errors.delta() >= 3
    assert_breaker_open_and_silent(private_cache, attempts)


def test_after_a_restart_hits_resume_once_the_reset_time_has_passed(
    private_redis, private_cache, metric
):
    hits = metric("cache_hits_total", service="gamification")
    private_cache.wrap(KEY, lambda: 1)
    private_redis.kill()
    for _ in range(3):
        private_cache.get(KEY)
    assert private_cache.breaker.state == OPEN
    private_redis.start()  # same port, empty (no persistence)
    assert private_cache.get(KEY, "d") == "d"  # still open: Redis not even tried
    private_cache.breaker.clock.now += 0.5  # past CACHE_BREAKER_RESET_SECONDS (0.3)
    calls = private_cache.network_calls
    # This call starts the background probe and is itself served without Redis.
    assert private_cache.get(KEY, "d") == "d"
    assert private_cache.network_calls == calls
    wait_for(lambda: private_cache.breaker.state == CLOSED)  # the probe's PING answered
    assert private_cache.wrap(KEY, lambda: 2) == 2  # a miss (Redis restarted empty), stored
    before = hits.value()
    assert private_cache.wrap(KEY, lambda: 3) == 2
    assert hits.value() - before == 1


def test_a_failed_probe_reopens_the_breaker(private_redis, private_cache, settings):
    private_redis.kill()
    for _ in range(3):
        private_cache.get(KEY)
    calls = private_cache.network_calls
    private_cache.breaker.clock.now += 0.5
    assert private_cache.get(KEY, "d") == "d"  # starts the probe, served without Redis
    wait_for(lambda: private_cache.breaker.state == OPEN)  # the probe was refused
    assert private_cache.get(KEY, "d") == "d"
    assert private_cache.network_calls == calls  # requests never touched the network


def test_with_redis_hung_no_request_waits_for_the_probe(private_redis, private_cache):
    """The probe of a hung server blocks for the socket timeout: in its own thread, while
    every request keeps being served without a network call."""
    for _ in range(3):
        private_cache.get(KEY)  # fills the pool's connection, then nothing: fine
    private_redis.stop()  # SIGSTOP: connections hang instead of failing
    while private_cache.breaker.state != OPEN:
        private_cache.get(KEY)
    calls = private_cache.network_calls
    private_cache.breaker.clock.now += 0.5
    assert private_cache.wrap(KEY, lambda: "db") == "db"  # starts the probe
    probing = private_cache.breaker.state
    for _ in range(20):
        assert private_cache.wrap(KEY, lambda: "db") == "db"
    assert private_cache.network_calls == calls
    assert probing in {"half_open", OPEN}  # OPEN if the probe already timed out
    wait_for(lambda: private_cache.breaker.state == OPEN)


def test_invalidations_lost_while_hung_are_replayed_before_the_next_read(
    private_redis, private_cache
):
    private_cache.set(KEY, "old")
    private_redis.stop()
    private_cache.invalidate("user:u1:*")  # times out: kept, not forgotten
    private_redis.cont()
    assert private_cache.breaker.state == CLOSED  # one failure of three
    assert private_cache.get(KEY) is None
    assert private_cache.wrap(KEY, lambda: "new") == "new"


def test_the_client_is_configured_for_a_single_attempt(private_cache):
    kwargs = private_cache.client.connection_pool.connection_kwargs
    assert kwargs["retry"].get_retries() == 0
    assert kwargs["socket_timeout"] == pytest.approx(0.1)
    assert kwargs["socket_connect_timeout"] == pytest.approx(0.1)
    assert isinstance(private_cache.client, redis.Redis)


def test_an_error_reply_does_not_open_the_breaker_and_reads_go_on(private_redis, private_cache):
    cached = keys.user_rank(user_id="u1")
    private_cache.set(cached, 7)
    admin = redis.Redis.from_url(private_redis.url)
    admin.config_set("maxmemory-policy", "noeviction")
    admin.config_set("maxmemory", "1")  # every write now fails with an OOM reply
    try:
        for n in range(5):
            assert private_cache.wrap(keys.user_stats(user_id=f"n{n}"), lambda: "db") == "db"
        assert private_cache.breaker.state == CLOSED
        assert private_cache.wrap(cached, lambda: "db") == 7  # hits still served
    finally:
        admin.config_set("maxmemory", "0")
        admin.close()


def test_a_kept_connection_closed_by_a_restart_is_reconnected_without_a_failure(
    private_redis, private_cache, metric
):
    """A read's connection is kept by its thread (transport._command); one the server
    closed meanwhile (a quick restart between two reads) is reconnected once, as the
    pool's readiness check did: the read is served, nothing counts as a failure."""
    errors = metric("cache_errors_total", service="gamification")
    private_cache.wrap(KEY, lambda: 1)
    assert private_cache.get(KEY) == 1  # the kept connection
    private_redis.kill()
    private_redis.start()  # same port, empty: the kept connection is dead
    assert private_cache.get(KEY, "d") == "d"  # a miss, read on a new connection
    assert errors.delta() == 0
    assert private_cache.breaker.failures == 0
    assert private_cache.wrap(KEY, lambda: 2) == 2
    assert private_cache.get(KEY) == 2


def test_a_kept_connection_that_times_out_is_not_retried(
    private_redis, private_cache, settings, monkeypatch
):
    settings.CACHE_BREAKER_FAILURES = 1000
    private_cache.wrap(KEY, lambda: 1)
    assert private_cache.get(KEY) == 1  # the kept connection
    private_redis.stop()
    attempts = Attempts(monkeypatch)
    assert private_cache.get(KEY, "d") == "d"
    assert attempts.total == 1  # the MGET that timed out; no second attempt
    private_redis.cont()


def test_a_thread_gives_its_kept_connection_back_when_it_ends(private_cache):
    """Servers that start a thread per request (runserver) must not pile up connections."""
    import gc
    import threading

    private_cache.set(KEY, {"x": 1})
    pool = private_cache.client.connection_pool

    def read():
        assert private_cache.get(KEY) == {"x": 1}
        assert len(pool._in_use_connections) >= 1  # kept while the thread lives

    for _ in range(5):
        thread = threading.Thread(target=read)
        thread.start()
        thread.join()
    gc.collect()
    # Only this thread's own (its reads above) is still taken; the threads' came back.
    assert pool._in_use_connections == {private_cache._local.kept.conn}
    assert len(pool._available_connections) == 1
