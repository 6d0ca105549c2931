"""Fixtures of the cache-layer tests.

``private_redis`` is a redis-server of our own on a free port, for the tests that kill
it, pause it (SIGSTOP) and restart it: the shared server is never touched. Whatever a
test does, the finalizer resumes (SIGCONT) and kills it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
import redis
from prometheus_client import REGISTRY

from guelaguetza.cache import CacheService, cache


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisProcess:
    """A throwaway redis-server: no persistence, so a restart loses every key."""

    def __init__(self, tmp_path) -> None:
        self.port = free_port()
        self.dir = tmp_path
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        probe = redis.Redis(port=self.port, socket_timeout=0.2, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 5
        while True:
            try:
                probe.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("private redis-server did not start") from None
                time.sleep(0.02)
            finally:
                probe.close()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(timeout=5)

    def stop(self) -> None:
        """Hang it: connections stay open (the kernel still accepts) but nothing answers."""
        os.kill(self.proc.pid, signal.SIGSTOP)

    def cont(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)


class FakeClock:
    """A monotonic clock that only moves when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


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


class Metric:
    """Read a sample of the default registry; ``delta()`` since the fixture started."""

    def __init__(self, name: str, **labels: str) -> None:
        self.name, self.labels = name, labels
        self.start = self.value()

    def value(self) -> float:
        return REGISTRY.get_sample_value(self.name, self.labels) or 0.0

    def delta(self) -> float:
        return self.value() - self.start


@pytest.fixture
def metric():
    return Metric
