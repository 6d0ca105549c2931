"""REDIS_URL topologies on real servers this module starts on spare ports (docs/cache.md,
"Redis topologies"): TLS with a CA made here, and a master + replica + 3 sentinels that
fail over. Every test uses its own key prefix, never a DB number."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
import redis
from django.core.cache import caches

from guelaguetza.cache import CacheService, keys
from guelaguetza.cache.breaker import CLOSED
from guelaguetza.cache.transport import connect
from tests.cache.redis_server import free_port

KEY = keys.user_stats(user_id="u1")


def need(*binaries: str) -> None:
    for binary in binaries:
        if shutil.which(binary) is None:
            pytest.skip(f"{binary} is not installed: this topology test needs it")


def wait_until(predicate, timeout: float = 20.0, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except (redis.RedisError, OSError):
            pass
        assert time.monotonic() < deadline, f"timed out waiting for {message}"
        time.sleep(0.05)


class Servers:
    """redis-server processes of one test, killed (by pid) at the end whatever happens."""

    def __init__(self, tmp_path) -> None:
        self.tmp = tmp_path
        self.procs: dict[int, subprocess.Popen] = {}

    def start(self, name: str, *args: str, config: str | None = None) -> subprocess.Popen:
        workdir = self.tmp / name
        workdir.mkdir()
        cmd = [shutil.which("redis-server")]
        if config is not None:
            (workdir / "redis.conf").write_text(config)
            cmd.append(str(workdir / "redis.conf"))
        cmd += [*args, "--dir", str(workdir), "--save", "", "--appendonly", "no"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs[proc.pid] = proc
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)

    def close(self) -> None:
        for proc in self.procs.values():
            self.kill(proc)


@pytest.fixture
def servers(tmp_path):
    group = Servers(tmp_path)
    try:
        yield group
    finally:
        group.close()


def service_for(url: str, prefix: str) -> CacheService:
    return CacheService(redis_url=url, prefix=prefix)


# --- TLS ------------------------------------------------------------------------------
def openssl(*args: str, cwd) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def tls_redis(tmp_path, servers, settings):
    """A TLS-only redis-server whose certificate (and the client's) a CA made here signs."""
    need("redis-server", "openssl")
    pki = tmp_path / "pki"
    pki.mkdir()
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
            "-out", "ca.crt", "-days", "1", "-subj", "/CN=test-ca", cwd=pki)  # fmt: skip
    (pki / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
                "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=pki)  # fmt: skip
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.crt", "-days", "1",
                "-extfile", "san.ext", cwd=pki)  # fmt: skip
    port = free_port()
    proc = servers.start(
        "tls", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
        "--tls-cert-file", str(pki / "server.crt"), "--tls-key-file", str(pki / "server.key"),
        "--tls-ca-cert-file", str(pki / "ca.crt"), "--tls-auth-clients", "yes",
    )  # fmt: skip
    settings.REDIS_TLS_CA_FILE = str(pki / "ca.crt")
    settings.REDIS_TLS_CERT_FILE = str(pki / "client.crt")
    settings.REDIS_TLS_KEY_FILE = str(pki / "client.key")
    url = f"rediss://127.0.0.1:{port}/0"
    wait_until(
        lambda: connect(url, socket_timeout=0.5, connect_timeout=0.5).ping(),
        message="the TLS redis-server",
    )
    if proc.poll() is not None:
        pytest.fail("redis-server exited: built without TLS support?")
    return url, pki


def test_rediss_url_reads_hit_and_writes_are_fresh_over_tls(tls_redis):
    url, _ = tls_redis
    service = service_for(url, "t-tls:")
    try:
        assert service.wrap(KEY, lambda: "v1") == "v1"
        assert service.wrap(KEY, lambda: "loader must not run") == "v1"  # a hit
        service.invalidate("user:u1:*")
        assert service.wrap(KEY, lambda: "v2") == "v2"
        assert service.breaker.state == CLOSED
    finally:
        service.reset()


def test_rediss_url_verifies_the_server_against_the_configured_ca(tls_redis, settings, tmp_path):
    url, _ = tls_redis
    other = tmp_path / "other"
    other.mkdir()
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "o.key",
            "-out", "o.crt", "-days", "1", "-subj", "/CN=other-ca", cwd=other)  # fmt: skip
    settings.REDIS_TLS_CA_FILE = str(other / "o.crt")
    client = connect(url, socket_timeout=0.5, connect_timeout=0.5)
    with pytest.raises(redis.ConnectionError):
        client.ping()
    service = service_for(url, "t-tls:")
    try:
        # through the cache layer an untrusted server is a miss, never an exception
        assert service.wrap(KEY, lambda: "db") == "db"
    finally:
        service.reset()


def test_django_cache_and_rate_limiter_connection_use_the_tls_settings(tls_redis, settings):
    url, _ = tls_redis
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": [url], "KEY_PREFIX": "t-tls"}
    }
    django_cache = caches["default"]
    django_cache.set("probe", 1)
    assert django_cache.get("probe") == 1
    assert django_cache.client.get_client().connection_pool.connection_kwargs["ssl_ca_certs"]


# --- Sentinel ---------------------------------------------------------------------------
SENTINEL_CONF = """port {port}
bind 127.0.0.1
sentinel monitor gc 127.0.0.1 {master} 2
sentinel down-after-milliseconds gc 400
sentinel failover-timeout gc 3000
sentinel parallel-syncs gc 1
"""


@pytest.fixture
def sentinels(servers):
    """A master, its replica and three sentinels watching them as service ``gc``."""
    need("redis-server")
    master, replica = free_port(), free_port()
    procs = {
        "master": servers.start("master", "--port", str(master), "--bind", "127.0.0.1"),
        "replica": servers.start(
            "replica",
            "--port",
            str(replica),
            "--bind",
            "127.0.0.1",
            "--replicaof",
            "127.0.0.1",
            str(master),
        ),
    }
    ports = [free_port() for _ in range(3)]
    for i, port in enumerate(ports):
        servers.start(
            f"sentinel{i}", "--sentinel", config=SENTINEL_CONF.format(port=port, master=master)
        )
    replica_client = redis.Redis(port=replica, socket_timeout=0.5)
    wait_until(
        lambda: replica_client.info("replication")["master_link_status"] == "up",
        message="the replica to sync",
    )
    sentinel = redis.sentinel.Sentinel([("127.0.0.1", p) for p in ports], socket_timeout=0.5)
    wait_until(
        lambda: all(
            int(redis.Redis(port=p).sentinel_master("gc")["num-other-sentinels"]) == 2
            and int(redis.Redis(port=p).sentinel_master("gc")["num-slaves"]) == 1
            for p in ports
        ),
        message="the sentinels to find each other and the replica",
    )
    url = "redis+sentinel://" + ",".join(f"127.0.0.1:{p}" for p in ports) + "/gc/0"
    return {"url": url, "master": master, "replica": replica, "procs": procs, "sentinel": sentinel}


def test_sentinel_url_reads_hit_and_writes_are_fresh(sentinels):
    service = service_for(sentinels["url"], "t-sentinel:")
    try:
        assert service.wrap(KEY, lambda: "v1") == "v1"
        assert service.wrap(KEY, lambda: "loader must not run") == "v1"
        service.invalidate("user:u1:*")
        assert service.wrap(KEY, lambda: "v2") == "v2"
        # the value lives on the master Sentinel names, under the seed's key
        assert redis.Redis(port=sentinels["master"]).exists("t-sentinel:user:u1:stats")
    finally:
        service.reset()


def test_a_killed_master_is_a_miss_and_the_failover_is_followed_without_restart(
    sentinels, servers, settings
):
    settings.CACHE_SOCKET_TIMEOUT = 0.2
    settings.CACHE_CONNECT_TIMEOUT = 0.2
    settings.CACHE_BREAKER_RESET_SECONDS = 0.2
    service = service_for(sentinels["url"], "t-sentinel:")
    try:
        assert service.wrap(KEY, lambda: "before") == "before"
        servers.kill(sentinels["procs"]["master"])
        for _ in range(5):  # no exception through the cache layer: the loader answers
            assert service.wrap(KEY, lambda: "db") == "db"
        wait_until(
            lambda: sentinels["sentinel"].discover_master("gc")[1] == sentinels["replica"],
            timeout=30,
            message="Sentinel to promote the replica",
        )

        def fresh_write_lands_on_the_new_master() -> bool:
            service.invalidate("user:u1:*")
            service.wrap(KEY, lambda: "after")
            return service.breaker.state == CLOSED and service.get(KEY) == "after"

        wait_until(fresh_write_lands_on_the_new_master, timeout=15, message="the new master")
        assert redis.Redis(port=sentinels["replica"]).exists("t-sentinel:user:u1:stats")
    finally:
        service.reset()


def test_django_cache_follows_the_sentinel_master(sentinels, settings):
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": [sentinels["url"]],
            "KEY_PREFIX": "t-sentinel",
        }
    }
    django_cache = caches["default"]
    django_cache.set("probe", 1)
    assert django_cache.get("probe") == 1
    assert redis.Redis(port=sentinels["master"]).exists("t-sentinel:1:probe")


@pytest.mark.django_db
def test_http_reads_answer_200_before_and_after_the_sentinel_master_dies(
    sentinels, servers, settings, client
):
    settings.CACHE_SOCKET_TIMEOUT = 0.2
    settings.CACHE_CONNECT_TIMEOUT = 0.2
    settings.REDIS_URL = sentinels["url"]
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": [sentinels["url"]]}}
    assert client.get("/api/events").status_code == 200
    assert client.get("/api/events").status_code == 200  # a hit
    servers.kill(sentinels["procs"]["master"])
    for _ in range(5):
        assert client.get("/api/events").status_code == 200
    assert client.get("/health").status_code == 200
