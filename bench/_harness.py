"""Shared pieces of the load benchmarks: an app server to drive, a load loop, /metrics.

Everything runs on loopback, bounded in time and request count, and stops by itself.
The servers are started here with explicit environments (cache on/off, a private Redis),
so a run is reproducible from the command it prints.
"""

from __future__ import annotations

import contextlib
import http.client
import multiprocessing as mp
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port: int, path: str = "/health", timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status < 600:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the server on port {port} did not answer {path} in {timeout}s")


PROJECT_APP = "guelaguetza.wsgi:application"
# port -> process group of the server started by app_server (for cpu_seconds)
SERVER_GROUPS: dict[int, int] = {}
_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(group: int) -> float:
    """User + system CPU seconds of every live process of a process group (a server's
    master and workers): what serving cost, whatever else runs on the machine."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[2]) == group:  # pgrp; utime and stime follow at 11 and 12
                total += int(fields[11]) + int(fields[12])
    return total / _TICKS


SERVERS = ("granian", "gunicorn")


def server_command(server: str, app: str, port: int, workers: int) -> list[str]:
    """The command serving ``app`` on a loopback port. granian goes through
    scripts/start.sh, so the bench runs exactly what `make run` and the image run;
    gunicorn (sync workers, bench/gunicorn.conf.py) is there for comparison only."""
    if server == "granian":
        return ["bash", str(ROOT / "scripts" / "start.sh")]
    if server == "gunicorn":
        return [
            PYTHON, "-m", "gunicorn", app,
            "--config", str(ROOT / "bench" / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--error-logfile", "-", "--log-level", "warning",
        ]  # fmt: skip
    raise ValueError(f"unknown server {server!r} (one of {SERVERS})")


@contextlib.contextmanager
def app_server(
    env_overrides: dict[str, str],
    *,
    workers: int = 2,
    server: str = "granian",
    app: str = PROJECT_APP,
    wait_path: str = "/health",
    log=None,
) -> Iterator[int]:
    """The project (or ``app``) on a free loopback port, with its own metrics dir; its
    output goes to ``log`` (an open file) when given, else to this process's."""
    port = free_port()
    mdir = tempfile.mkdtemp(prefix="gc-bench-metrics-")
    env = {
        **os.environ,
        "RATE_LIMITS_ENABLED": "false",
        "PROMETHEUS_MULTIPROC_DIR": mdir,
        "DJANGO_DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "SERVER_LOG_LEVEL": "warning",
        # No access log: formatting one line per request is ~7-10 % of a cached read's
        # CPU here; in production the proxy in front usually logs instead.
        "ACCESS_LOG": "false",
        # scripts/start.sh's settings
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "WSGI_APP": app,
        "VENV_BIN": str(Path(PYTHON).parent),
        **env_overrides,
    }
    cmd = server_command(server, app, port, workers)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True, stdout=log, stderr=log)
    SERVER_GROUPS[port] = proc.pid  # start_new_session: the group is the master's pid
    try:
        wait_http(port, wait_path)
        yield port
    finally:
        SERVER_GROUPS.pop(port, None)
        stop_group(proc)
        shutil.rmtree(mdir, ignore_errors=True)


def stop_group(proc: subprocess.Popen) -> None:
    """Stop a server started with ``start_new_session``: its whole process group,
    SIGTERM then, after 15 s, SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# -- a private Redis ---------------------------------------------------------------------
class PrivateRedis:
    """A redis-server of the bench's own on a spare loopback port (never the shared
    one), without persistence: every run starts from an empty cache."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="gc-bench-redis-")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        import redis

        client = redis.Redis(port=self.port, socket_timeout=0.5)
        for _ in range(100):
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    return
            time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self) -> PrivateRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def kill(self) -> None:
        assert self.proc
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def pause(self) -> None:
        assert self.proc
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


# -- the load loop ----------------------------------------------------------------------
@dataclass(frozen=True)
class Req:
    name: str  # a route family for the report, never an id
    method: str
    path: str
    token: str | None = None
    body: bytes | None = None
    #: the cached values a read shows, as ``family|identity`` (bench/load.py's model of
    #: what a TTL alone forces to be loaded); empty for writes and uncached routes
    shows: tuple[str, ...] = ()


@dataclass
class PhaseResult:
    latencies_ms: list[float] = field(default_factory=list)
    read_latencies_ms: list[float] = field(default_factory=list)  # names not "w_..."
    by_name: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    elapsed: float = 0.0
    #: (time.monotonic(), Req.shows) of each answered read that declares what it shows
    shown: list[tuple[float, tuple[str, ...]]] = field(default_factory=list)

    def merge(self, other: PhaseResult) -> None:
        self.shown.extend(other.shown)
        self.latencies_ms.extend(other.latencies_ms)
        self.read_latencies_ms.extend(other.read_latencies_ms)
        for k, v in other.by_name.items():
            self.by_name[k] = self.by_name.get(k, 0) + v
        for k, v in other.statuses.items():
            self.statuses[k] = self.statuses.get(k, 0) + v
        self.errors += other.errors


def encode(req: Req) -> bytes:
    """The request's bytes, HTTP/1.1 with ``Connection: close`` (gunicorn's sync workers
    close every connection anyway)."""
    head = [f"{req.method} {req.path} HTTP/1.1", "Host: 127.0.0.1", "Accept: application/json"]
    if req.token:
        head.append(f"Authorization: Bearer {req.token}")
    if req.body is not None:
        head += ["Content-Type: application/json", f"Content-Length: {len(req.body)}"]
    head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + (req.body or b"")


def send(port: int, req: Req) -> int:
    """Send one request on a fresh connection, read the response to EOF, return its status.

    A bare socket, not http.client: the clients share the server's two cores, and
    http.client's header parsing costs more CPU than the constant-bytes view it measures,
    which would cap every phase at the client's speed instead of the server's."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(encode(req))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head = b"".join(chunks)[:16]  # the status line, however the bytes were split
    if not head.startswith(b"HTTP/1.") or len(head) < 12:
        raise http.client.BadStatusLine(repr(head))
    return int(head[9:12])


def _worker(port, make_request, seconds, max_requests, seed, out_q, threads):
    import threading

    result = PhaseResult()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def loop(tseed: int) -> None:
        rng = random.Random(tseed)
        local = PhaseResult()
        count = 0
        while time.monotonic() < deadline and count < max_requests:
            req = make_request(rng)
            t0 = time.perf_counter()
            try:
                status = send(port, req)
            except (OSError, http.client.HTTPException):
                local.errors += 1
                continue
            elapsed_ms = (time.perf_counter() - t0) * 1000
            local.latencies_ms.append(elapsed_ms)
            if not req.name.startswith("w_"):
                local.read_latencies_ms.append(elapsed_ms)
            if req.shows:
                local.shown.append((time.monotonic(), req.shows))
            local.by_name[req.name] = local.by_name.get(req.name, 0) + 1
            local.statuses[status] = local.statuses.get(status, 0) + 1
            count += 1
        with lock:
            result.merge(local)

    ts = [threading.Thread(target=loop, args=(seed * 1000 + i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out_q.put(result)


def run_load(
    port: int,
    make_request: Callable[[random.Random], Req],
    *,
    seconds: float,
    procs: int = 2,
    threads: int = 4,
    max_requests: int = 200_000,
    seed: int = 1,
) -> PhaseResult:
    """Closed-loop load: procs x threads clients, each sending one request at a time
    until ``seconds`` pass or ``max_requests`` per thread are sent."""
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    ps = [
        ctx.Process(
            target=_worker,
            args=(port, make_request, seconds, max_requests, seed + i, q, threads),
        )
        for i in range(procs)
    ]
    t0 = time.perf_counter()
    for p in ps:
        p.start()
    total = PhaseResult()
    for _ in ps:
        total.merge(q.get(timeout=seconds + 120))
    for p in ps:
        p.join()
    total.elapsed = time.perf_counter() - t0
    return total


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary(result: PhaseResult) -> dict:
    n = len(result.latencies_ms)
    return {
        "requests": n,
        "seconds": round(result.elapsed, 2),
        "throughput_rps": round(n / result.elapsed, 1) if result.elapsed else 0.0,
        "p50_ms": round(percentile(result.latencies_ms, 50), 2),
        "p95_ms": round(percentile(result.latencies_ms, 95), 2),
        "p99_ms": round(percentile(result.latencies_ms, 99), 2),
        # Reads alone: ~2% writes (slow by nature) would otherwise *be* the p99.
        "reads_p50_ms": round(percentile(result.read_latencies_ms, 50), 2),
        "reads_p99_ms": round(percentile(result.read_latencies_ms, 99), 2),
        "status_5xx": sum(v for k, v in result.statuses.items() if k >= 500),
        "status_4xx": sum(v for k, v in result.statuses.items() if 400 <= k < 500),
        "transport_errors": result.errors,
        "by_route": dict(sorted(result.by_name.items())),
    }


# -- /metrics ---------------------------------------------------------------------------
def scrape(port: int) -> dict[str, float]:
    """Sum of samples per metric name, from one /metrics scrape; samples of the cache
    counters are also summed per service, as ``cache_hits_total|events``, and per key
    family, as ``cache_hits_total|f:user_stats``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {}
    if os.environ.get("METRICS_TOKEN"):
        headers["Authorization"] = f"Bearer {os.environ['METRICS_TOKEN']}"
    conn.request("GET", "/metrics", headers=headers)
    text = conn.getresponse().read().decode()
    conn.close()
    totals: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name_labels, _, value = line.rpartition(" ")
        name = name_labels.split("{", 1)[0]
        with contextlib.suppress(ValueError):
            totals[name] = totals.get(name, 0.0) + float(value)
            if name in ("cache_hits_total", "cache_misses_total", "cache_refreshes_total"):
                for label in ("service", "family"):
                    if f'{label}="' in line:
                        part = line.split(f'{label}="', 1)[1].split('"', 1)[0]
                        key = f"{name}|{part}" if label == "service" else f"{name}|f:{part}"
                        totals[key] = totals.get(key, 0.0) + float(value)
    return totals


def delta(after: dict[str, float], before: dict[str, float], name: str) -> float:
    return after.get(name, 0.0) - before.get(name, 0.0)
