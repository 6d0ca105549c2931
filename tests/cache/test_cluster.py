"""Cluster mode on a real local cluster of 3 masters this module starts on spare ports
(docs/cache.md, "Redis topologies"): hash-tagged keys, hits, fresh writes, the family
with two roots, recorded dependencies, ops commands per primary, Django's cache."""

from __future__ import annotations

import shutil
import socket
import subprocess

import pytest
import redis
from django.core.cache import caches

from guelaguetza.cache import CacheService, keys
from guelaguetza.cache.breaker import CLOSED
from guelaguetza.cache.ops import family_counts, unlink_glob
from tests.cache.redis_server import free_port
from tests.cache.test_topologies import Servers, need, wait_until

PREFIX = "t-cluster:"


def cluster_port() -> int:
    """A spare port whose cluster bus port (port + 10000) is a valid, spare port too."""
    while True:
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port


def start_cluster(group: Servers) -> tuple[str, dict[int, subprocess.Popen]]:
    """Three masters (a 1 s node timeout, so a dead one is noticed quickly), all slots
    assigned: ``(redis+cluster:// URL, {port: process})``."""
    ports = [cluster_port() for _ in range(3)]
    procs = {
        port: group.start(
            f"node{port}",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "1000",
        )
        for port in ports
    }
    for port in ports:
        wait_until(lambda p=port: redis.Redis(port=p).ping(), message="a cluster node")
    subprocess.run(
        [shutil.which("redis-cli"), "--cluster", "create",
         *(f"127.0.0.1:{p}" for p in ports), "--cluster-replicas", "0", "--cluster-yes"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    wait_until(
        lambda: all(redis.Redis(port=p).cluster("info")["cluster_state"] == "ok" for p in ports),
        timeout=30,
        message="the cluster to be ok",
    )
    return "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in ports), procs


@pytest.fixture(scope="module")
def cluster_url(tmp_path_factory):
    need("redis-server", "redis-cli")
    group = Servers(tmp_path_factory.mktemp("cluster"))
    try:
        yield start_cluster(group)[0]
    finally:
        group.close()


@pytest.fixture
def service(cluster_url, settings):
    settings.CACHE_SOCKET_TIMEOUT = 1.0
    settings.CACHE_CONNECT_TIMEOUT = 1.0
    svc = CacheService(redis_url=cluster_url, prefix=PREFIX)
    yield svc
    for names in [n for batch in _all(svc) for n in batch]:
        svc.client.unlink(names)
    svc.reset()


def _all(svc):
    from guelaguetza.cache.ops import scan

    return list(scan(svc, PREFIX + "*"))


def test_cluster_keys_are_hash_tagged_by_root_namespace_and_one_server_keys_are_not(service):
    stats = keys.user_stats(user_id="1")
    assert service.key_name(stats) == PREFIX + "{user:1}:stats"
    assert service.gen_name("user:1") == PREFIX + "gen:{user:1}"
    assert service.lock_name(stats) == PREFIX + "lock:{user:1}:stats"
    assert service.key_name(keys.badges_all()) == PREFIX + "{badges}:all"
    single = CacheService(redis_url="redis://127.0.0.1:1/0", prefix=PREFIX)
    assert single.key_name(stats) == PREFIX + "user:1:stats"
    assert single.gen_name("user:1") == PREFIX + "gen:user:1"
    assert single.lock_name(stats) == PREFIX + "lock:user:1:stats"


def test_a_value_its_generations_and_its_lock_share_a_slot(service):
    stats = keys.user_stats(user_id="7")
    slot = service.client.keyslot
    names = [service.key_name(stats), service.lock_name(stats)]
    names += [service.gen_name(ns) for ns in stats.namespaces]
    assert len({slot(n) for n in names}) == 1


def test_cluster_reads_hit_and_writes_are_fresh(service):
    many = [keys.user_stats(user_id=str(n)) for n in range(20)]  # spread over slots
    for n, key in enumerate(many):
        assert service.wrap(key, lambda n=n: {"n": n}) == {"n": n}
    for n, key in enumerate(many):
        assert service.wrap(key, lambda: "loader must not run") == {"n": n}
    service.invalidate("user:3:*")
    assert service.wrap(many[3], lambda: "fresh") == "fresh"
    assert service.get(many[4]) == {"n": 4}
    service.delete(many[5])
    assert service.get(many[5]) is None
    assert service.breaker.state == CLOSED


def test_read_many_across_slots_answers_every_key(service):
    ckeys = [keys.user_stats(user_id=str(n)) for n in range(10)]
    for n, key in enumerate(ckeys):
        service.set(key, n)
    result = service.read_many(ckeys)
    assert result is not service.FAILED
    values = [entry for entry, _ in result[0]]
    assert all(entry is not service.MISS for entry in values)


def test_user_badges_follow_both_roots_in_cluster_mode(service):
    key = keys.user_badges(user_id="9")
    assert service.wrap(key, lambda: ["b1"]) == ["b1"]
    assert service.wrap(key, lambda: "loader must not run") == ["b1"]
    service.invalidate("badges:*")  # the catalogue's root, another slot
    assert service.wrap(key, lambda: ["b2"]) == ["b2"]
    service.invalidate("user:9:*")
    assert service.wrap(key, lambda: ["b3"]) == ["b3"]


def test_recorded_dependencies_are_checked_in_cluster_mode(service):
    key = keys.user_rank(user_id="4")

    def loader(value):
        def load():
            service.depends_on("leaderboard", "experience:12")
            return value

        return load

    assert service.wrap(key, loader(1)) == 1
    assert service.wrap(key, loader("loader must not run")) == 1
    service.invalidate("leaderboard:*")
    assert service.wrap(key, loader(2)) == 2
    assert service.wrap(key, loader("loader must not run")) == 2
    service.invalidate("experience:12:*")
    assert service.wrap(key, loader(3)) == 3


def test_ops_commands_count_and_unlink_on_every_primary(service):
    for n in range(30):
        service.set(keys.user_stats(user_id=str(n)), n)
    service.set(keys.badges_all(), [])
    counts = family_counts(service)
    assert counts["user_stats"] == 30
    assert counts["badges_all"] == 1
    assert counts["gen"] >= 30
    assert service.key_count() >= 31
    assert unlink_glob(service, "user:1*:stats") == 11  # 1, 10..19
    assert family_counts(service)["user_stats"] == 19
    assert service.get(keys.user_stats(user_id="12")) is None
    assert service.get(keys.user_stats(user_id="2")) == 2


def test_django_cache_and_rate_limiter_connection_work_on_the_cluster(cluster_url, settings):
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": [cluster_url], "KEY_PREFIX": "t-cl"}
    }
    django_cache = caches["default"]
    for n in range(10):
        django_cache.set(f"probe{n}", n)
    assert [django_cache.get(f"probe{n}") for n in range(10)] == list(range(10))
    from django_redis import get_redis_connection

    pipe = get_redis_connection("default").pipeline(transaction=False)
    for n in range(5):  # the rate limiter's INCR + EXPIRE, keys in several slots
        pipe.incr(f"t-cl:rl:{n}")
        pipe.expire(f"t-cl:rl:{n}", 60, nx=True)
    assert pipe.execute()[0::2] == [1] * 5
    django_cache.delete_many([f"probe{n}" for n in range(10)])


@pytest.mark.django_db
def test_health_is_ok_on_a_healthy_cluster(cluster_url, settings, client):
    settings.REDIS_URL = cluster_url
    body = client.get("/health").json()
    assert body["checks"]["redis"] == "ok"


@pytest.mark.django_db
def test_a_dead_master_of_the_cluster_is_no_5xx_and_health_says_error(tmp_path, settings, client):
    need("redis-server", "redis-cli")
    group = Servers(tmp_path)
    try:
        url, procs = start_cluster(group)
        settings.CACHE_SOCKET_TIMEOUT = 0.2
        settings.CACHE_CONNECT_TIMEOUT = 0.2
        settings.REDIS_URL = url
        settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": [url]}}
        assert client.get("/api/events").status_code == 200
        dead, *alive = procs
        group.kill(procs[dead])
        wait_until(
            lambda: redis.Redis(port=alive[0]).cluster("info")["cluster_state"] == "fail",
            message="the cluster to notice the dead master",
        )
        for _ in range(5):
            assert client.get("/api/events").status_code == 200
        health = client.get("/health")
        assert health.status_code == 200
        assert health.json()["checks"]["redis"] == "error"
        assert health.json()["status"] == "degraded"
    finally:
        group.close()


@pytest.mark.django_db
def test_an_unreachable_cluster_is_no_5xx_for_cache_rate_limiter_or_health(settings, client):
    url = f"redis+cluster://127.0.0.1:{free_port()}"  # nothing listens there
    settings.CACHE_CONNECT_TIMEOUT = 0.1
    settings.REDIS_URL = url
    settings.RATE_LIMITS_ENABLED = True
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": [url]}}
    for _ in range(3):
        assert client.get("/api/events").status_code == 200
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json()["checks"]["redis"] == "unavailable"


def test_ops_commands_run_against_the_cluster(cluster_url, settings):
    from io import StringIO

    from django.core.management import call_command

    from guelaguetza.cache import cache

    settings.REDIS_URL = cluster_url
    settings.CACHE_KEY_PREFIX = "t-cluster-ops:"
    try:
        for n in range(12):
            cache.set(keys.user_stats(user_id=str(n)), n)
        tree = StringIO()
        call_command("cache_tree", stdout=tree)
        assert "user_stats" in tree.getvalue()
        assert "12" in tree.getvalue()
        out = StringIO()
        call_command("cache_invalidate", "user:1*:stats", stdout=out)
        assert "done: 3 keys unlinked" in out.getvalue()  # 1, 10, 11
        call_command("cache_invalidate", "user:2:*", stdout=StringIO())  # O(1) generation
        assert cache.get(keys.user_stats(user_id="2")) is None
        assert cache.get(keys.user_stats(user_id="3")) == 3
        stats = StringIO()
        call_command("cache_stats", stdout=stats)
        assert "keys in the cache's Redis DB: unavailable" not in stats.getvalue()
    finally:
        call_command("cache_invalidate", "*", stdout=StringIO())
