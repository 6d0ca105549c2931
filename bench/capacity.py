"""Capacity model from measured costs, checked by replaying a festival day at small scale.

    .venv/bin/python bench/capacity.py [--day-seconds 240] [--users 10000,50000,200000]

Needs seeded data in DATABASE_URL (a database of its own, e.g. gc_bench). Measures the
unit costs of reads (at several hit rates) and writes, builds the model (:func:`model`)
for N festival users, then replays a compressed festival day open loop and compares the
model's predictions with what was measured: bench/README.md. Prints
figures and writes bench/out/capacity-<time>.json; asserts nothing. The README's figures
come from bench/results/capacity.txt.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import queue
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guelaguetza.settings")

from bench._harness import (
    PYTHON,
    ROOT,
    PrivateRedis,
    Req,
    free_port,
    percentile,
    run_load,
    scrape,
    send,
)
from bench.load import load_fixture, make_mix

TICK = os.sysconf("SC_CLK_TCK")
WRITE_SHARE = 0.02
# bench/load.py's write mix (its write()): the shares the model assumes.
WRITE_KINDS = {
    "w_checkin": 0.30,
    "w_rsvp": 0.20,
    "w_unrsvp": 0.25,
    "w_cancel": 0.13,
    "w_booking": 0.12,
}
TTL_FAMILIES = [
    "BADGES_ALL", "USER_AUTH", "USER_BADGES", "USER_STATS", "USER_RANK", "USER_RSVPS",
    "LEADERBOARD_PAGE", "EXPERIENCE_DETAIL", "EXPERIENCE_SLOTS", "EXPERIENCES_LIST",
    "EVENT_DETAIL", "EVENTS_LIST", "CONFIG",
]  # fmt: skip


# -- CPU accounting from /proc --------------------------------------------------------
def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (0 if it has gone)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def tree_cpu(root: int) -> float:
    """CPU seconds of ``root`` and every live descendant (gunicorn master + workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += proc_cpu(pid)
        todo.extend(children.get(pid, []))
    return total


class Probe:
    """Counters of one server set-up, read together: a snapshot."""

    def __init__(self, port: int, server_pid: int, redis: PrivateRedis, dbname: str) -> None:
        import psycopg
        import redis as redis_py
        from django.conf import settings

        self.port = port
        self.server_pid = server_pid
        self.redis_pid = redis.proc.pid
        self.redis = redis_py.Redis(port=redis.port)
        db = settings.DATABASES["default"]
        self.pg = psycopg.connect(
            host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname="postgres",
            autocommit=True,
        )  # fmt: skip
        self.dbname = dbname

    def pg_backend_cpu(self) -> dict[int, float]:
        rows = self.pg.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.dbname,)
        ).fetchall()
        return {pid: proc_cpu(pid) for (pid,) in rows}

    def snap(self) -> dict[str, float]:
        metrics = scrape(self.port)
        return {
            "app_cpu": tree_cpu(self.server_pid),
            "redis_cpu": proc_cpu(self.redis_pid),
            "redis_cmds": float(self.redis.info("stats")["total_commands_processed"]),
            "pg_cpu": self.pg_backend_cpu(),
            "pg_stmts": metrics.get("django_db_execute_total", 0.0),
            # The machine's 1-minute load: this box's cores are shared with other jobs.
            "load1": float(Path("/proc/loadavg").read_text().split()[0]),
            "hits": metrics.get("cache_hits_total", 0.0),
            "misses": metrics.get("cache_misses_total", 0.0),
            "time": time.monotonic(),
        }

    def close(self) -> None:
        self.pg.close()
        self.redis.close()


def diff(after: dict, before: dict, overhead: dict | None = None) -> dict:
    out = {k: after[k] - before[k] for k in after if k not in ("pg_cpu", "load1")}
    out["load1"] = after["load1"]
    # Per backend: one that started since counts from 0; one that ended is lost (the
    # servers keep their connections for the whole run, so none should).
    out["pg_cpu"] = sum(v - before["pg_cpu"].get(pid, 0.0) for pid, v in after["pg_cpu"].items())
    for k, v in (overhead or {}).items():
        out[k] = max(0.0, out[k] - v)
    return out


@contextlib.contextmanager
def server(redis: PrivateRedis, env: dict[str, str], workers: int = 2):
    """gunicorn of the project (its pid, for /proc) on a spare port, with its own metrics
    directory; DB connections kept for the whole run so their backends' CPU adds up."""
    port = free_port()
    mdir = tempfile.mkdtemp(prefix="gc-capacity-metrics-")
    full_env = {
        **os.environ,
        "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
        "RATE_LIMITS_ENABLED": "false",
        "PROMETHEUS_MULTIPROC_DIR": mdir,
        "DJANGO_DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_ACCESS_LOG": "",
        "DB_CONN_MAX_AGE": "3600",
        **env,
    }
    cmd = [PYTHON, "-m", "gunicorn", "guelaguetza.wsgi:application",
           "--config", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
           "--workers", str(workers), "--error-logfile", "-", "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, start_new_session=True)
    try:
        from bench._harness import wait_http

        wait_http(port)
        yield port, proc.pid
    finally:
        from bench._harness import stop_group

        stop_group(proc)
        shutil.rmtree(mdir, ignore_errors=True)


def scrape_overhead(probe: Probe, n: int = 5) -> dict:
    """What one snapshot itself costs (the /metrics scrape runs SQL and Python)."""
    before = probe.snap()
    for _ in range(n - 1):
        probe.snap()
    after = probe.snap()
    per = diff(after, before)
    return {k: per[k] / n for k in ("app_cpu", "pg_stmts", "pg_cpu", "redis_cmds", "redis_cpu")}


def per_request(d: dict, requests: int) -> dict:
    n = max(1, requests)
    hits, misses = d["hits"], d["misses"]
    return {
        "requests": requests,
        "app_cpu_ms": 1000 * d["app_cpu"] / n,
        "redis_cmds": d["redis_cmds"] / n,
        "redis_cpu_us": 1e6 * d["redis_cpu"] / n,
        "pg_stmts": d["pg_stmts"] / n,
        "pg_cpu_ms": 1000 * d["pg_cpu"] / n,
        "hit_rate": hits / (hits + misses) if hits + misses else None,
        "lookups_per_request": (hits + misses) / n,
    }


def measured_phase(probe: Probe, make, seconds: float, overhead: dict, threads: int = 4) -> dict:
    before = probe.snap()
    result = run_load(probe.port, make, seconds=seconds, procs=1, threads=threads)
    after = probe.snap()
    d = diff(after, before, overhead)
    out = per_request(d, len(result.latencies_ms))
    out["load1"] = d["load1"]
    out["status_4xx"] = sum(v for k, v in result.statuses.items() if 400 <= k < 500)
    out["status_5xx"] = sum(v for k, v in result.statuses.items() if k >= 500)
    out["rps"] = len(result.latencies_ms) / result.elapsed
    return out


# -- 1. unit costs ----------------------------------------------------------------------
def fit_read_costs(points: list[dict]) -> dict:
    """Least squares of cost = hit * h + miss * (1 - h) per quantity, over the phases."""
    out = {}
    for q in ("app_cpu_ms", "redis_cmds", "redis_cpu_us", "pg_stmts", "pg_cpu_ms"):
        # Two unknowns, x = (hit, miss); rows (h, 1 - h).
        a11 = sum(p["hit_rate"] ** 2 for p in points)
        a12 = sum(p["hit_rate"] * (1 - p["hit_rate"]) for p in points)
        a22 = sum((1 - p["hit_rate"]) ** 2 for p in points)
        b1 = sum(p["hit_rate"] * p[q] for p in points)
        b2 = sum((1 - p["hit_rate"]) * p[q] for p in points)
        det = a11 * a22 - a12 * a12
        hit = (b1 * a22 - b2 * a12) / det
        miss = (a11 * b2 - a12 * b1) / det
        # Worst miss of the fit, relative to the largest measured value (a relative error
        # of a near-zero value, a hit's SQL, says nothing).
        residual = max(
            abs(hit * p["hit_rate"] + miss * (1 - p["hit_rate"]) - p[q]) for p in points
        ) / max(max(p[q] for p in points), 1e-9)
        out[q] = {"hit": hit, "miss": miss, "max_relative_residual": residual}
    return out


def key_bytes(redis_port: int, prefix: str, sample: int = 3000) -> dict:
    """Mean MEMORY USAGE and count of the cache's keys, per key family."""
    import redis as redis_py

    from guelaguetza.cache.registry import resolve

    client = redis_py.Redis(port=redis_port)
    groups: dict[str, list[int]] = {}
    counts: Counter = Counter()
    for i, raw in enumerate(client.scan_iter(match=f"{prefix}*", count=1000)):
        key = raw.decode()[len(prefix) :]
        if key.startswith("gen:"):
            family = "(generation)"
        elif key.startswith("lock:"):
            family = "(lock)"
        elif key.startswith("rw:"):
            family = "(write marker)"
        else:
            try:
                family = resolve(key).family.name
            except ValueError:
                family = "(other)"
        counts[family] += 1
        if i < sample:
            groups.setdefault(family, []).append(client.memory_usage(raw) or 0)
    client.close()
    return {
        family: {"keys": counts[family], "mean_bytes": round(sum(v) / len(v))}
        for family, v in sorted(groups.items())
    }


def measure_costs(fx: dict, redis: PrivateRedis, args) -> dict:
    mix_reads = make_mix(fx, write_share=0.0)
    # The same routes and shares over the 20 most popular of each: all hits once warm,
    # which anchors the hit end of the fit.
    hot = {
        **fx,
        **{k: fx[k][:20] for k in ("users", "events", "experiences", "tokens", "signed_ids")},
    }
    mix_hot = make_mix(hot, write_share=0.0)
    points, phases = [], {}
    settings_env = {"CACHE_ENABLED": "true"}
    for label, ttl, mix in (
        ("reads hot", None, mix_hot),
        ("reads warm", None, mix_reads),
        ("reads ttl 3s", 3, mix_reads),
        ("reads ttl 1s", 1, mix_reads),
    ):
        env = dict(settings_env)
        if ttl is not None:
            env.update({f"CACHE_TTL_{name}": str(ttl) for name in TTL_FAMILIES})
        redis_flush(redis)
        with server(redis, env) as (port, pid):
            probe = Probe(port, pid, redis, args.dbname)
            try:
                warmup = args.warmup if label == "reads warm" else min(args.warmup, 8)
                run_load(port, mix, seconds=warmup, procs=1, threads=4, seed=7)
                overhead = scrape_overhead(probe)
                phases[label] = measured_phase(probe, mix, args.seconds, overhead)
                points.append(phases[label])
                if label == "reads warm":
                    # What the server costs with no request at all (gunicorn's heartbeat):
                    # per second, it weighs at the night's few requests per second.
                    before = probe.snap()
                    time.sleep(args.idle_seconds)
                    idle = diff(probe.snap(), before, overhead)
                    phases["idle"] = {
                        "app_cpu_ms_per_second": 1000 * idle["app_cpu"] / idle["time"],
                        "redis_cpu_us_per_second": 1e6 * idle["redis_cpu"] / idle["time"],
                        "pg_cpu_ms_per_second": 1000 * idle["pg_cpu"] / idle["time"],
                    }
                    print(f"idle server     {json.dumps(_rounded(phases['idle']))}", flush=True)
                    from django.conf import settings

                    phases["key bytes"] = key_bytes(redis.port, settings.CACHE_KEY_PREFIX)
                    # Writes, one kind at a time, on the warm server.
                    for kind in WRITE_KINDS:
                        make = writes_of(fx, kind)
                        phases[kind] = measured_phase(
                            probe, make, args.write_seconds, overhead, threads=2
                        )
            finally:
                probe.close()
        _print_phase(label, phases[label])
    for kind in WRITE_KINDS:
        _print_phase(kind, phases[kind])
    with server(redis, {"CACHE_ENABLED": "false"}) as (port, pid):
        probe = Probe(port, pid, redis, args.dbname)
        try:
            run_load(port, mix_reads, seconds=3, procs=1, threads=4, seed=7)
            overhead = scrape_overhead(probe)
            phases["reads uncached"] = measured_phase(probe, mix_reads, args.seconds, overhead)
        finally:
            probe.close()
    _print_phase("reads uncached", phases["reads uncached"])
    fit = fit_read_costs(points)
    print("read cost fit (hit / miss per request; worst error / largest value):")
    for q, v in fit.items():
        print(f"  {q:<13} hit {v['hit']:9.3f}  miss {v['miss']:9.3f}  "
              f"residual {100 * v['max_relative_residual']:5.1f} %")  # fmt: skip
    print("bytes per key family (warm cache):")
    for family, v in phases["key bytes"].items():
        print(f"  {family:<20} {v['keys']:>7} keys  {v['mean_bytes']:>6} B each")
    return {"phases": phases, "read_fit": fit}


def _rounded(d: dict) -> dict:
    return {k: round(v, 3) for k, v in d.items()}


def redis_flush(redis: PrivateRedis) -> None:
    import redis as redis_py

    client = redis_py.Redis(port=redis.port)
    client.flushall()
    client.close()


def writes_of(fx: dict, kind: str):
    """bench/load.py's write of one kind only (its mix picks the kind at random)."""
    mix = make_mix(fx, write_share=1.0)

    def make(rng: random.Random) -> Req:
        for _ in range(200):
            req = mix(rng)
            if req.name == kind:
                return req
        return req

    return make


def _print_phase(label: str, p: dict) -> None:
    hit = "-" if p.get("hit_rate") is None else f"{100 * p['hit_rate']:.1f}%"
    print(
        f"{label:<15} {p['requests']:>6} req  app {p['app_cpu_ms']:6.2f} ms CPU/req  "
        f"redis {p['redis_cmds']:5.2f} cmd ({p['redis_cpu_us']:5.1f} us)  "
        f"pg {p['pg_stmts']:5.2f} stmt ({p['pg_cpu_ms']:5.2f} ms)  hit {hit}  "
        f"4xx {p['status_4xx']} 5xx {p['status_5xx']}  load {p['load1']}",
        flush=True,
    )


# -- 2. the model -----------------------------------------------------------------------
DEFAULTS = {
    # A festival user with the app open: a request every 10 s (tap, scroll, refresh).
    "requests_per_user_second": 0.1,
    "hit_rate": None,  # None: the warm hit rate measured here
    "write_share": WRITE_SHARE,
    "app_utilisation": 0.6,  # headroom for bursts inside the peak
    "redis_utilisation": 0.5,  # Redis is one thread per shard; its latency climbs early
    "pg_utilisation": 0.6,
    "pg_cores_per_node": 4,
    "signed_in_share": 0.5,  # of reads (bench/load.py's mix)
    "redis_memory_per_shard_gb": 8.0,
}


def model(costs: dict, users: int, **overrides) -> dict:
    """App cores, Redis shards and PostgreSQL replicas for ``users`` concurrent users."""
    p = {**DEFAULTS, **overrides}
    fit, phases = costs["read_fit"], costs["phases"]
    h = p["hit_rate"] if p["hit_rate"] is not None else phases["reads warm"]["hit_rate"]
    rps = users * p["requests_per_user_second"]
    w = p["write_share"]

    def per_req(q: str) -> float:
        read = fit[q]["hit"] * h + fit[q]["miss"] * (1 - h)
        write = sum(share * phases[k][q] for k, share in WRITE_KINDS.items())
        return (1 - w) * read + w * write

    app_cores = rps * per_req("app_cpu_ms") / 1000 / p["app_utilisation"]
    redis_cmds = rps * per_req("redis_cmds")
    redis_cpu = rps * per_req("redis_cpu_us") / 1e6
    shards_cpu = math.ceil(redis_cpu / p["redis_utilisation"])
    # Memory: every user's own families (user_*) and one generation key, per user (as if
    # each of them had all of them cached), plus the shared keys as measured here.
    key_bytes = phases["key bytes"]
    per_user = sum(v["mean_bytes"] for f, v in key_bytes.items() if f.startswith("user_"))
    per_user += key_bytes.get("(generation)", {"mean_bytes": 0})["mean_bytes"]
    shared = sum(
        v["mean_bytes"] * v["keys"]
        for f, v in key_bytes.items()
        if not f.startswith("user_") and not f.startswith("(")
    )
    memory_gb = (users * per_user + shared) / 1e9
    shards_memory = math.ceil(memory_gb / p["redis_memory_per_shard_gb"])
    # PostgreSQL, cache up: writes and every cache fill go to the primary by design
    # (README.md#read-replicas); replicas take only uncached GETs, none in this mix.
    pg_primary_cores = rps * per_req("pg_cpu_ms") / 1000 / p["pg_utilisation"]
    # Cache down (Redis outage at peak): every read is a database read. Read-your-writes
    # cannot be checked without Redis, so signed-in callers read the primary; anonymous
    # reads go to the replicas (README.md#read-replicas).
    uncached = phases["reads uncached"]
    reads_cpu_down = rps * (1 - w) * uncached["pg_cpu_ms"] / 1000 / p["pg_utilisation"]
    replica_cores_down = reads_cpu_down * (1 - p["signed_in_share"])
    replicas_for_outage = math.ceil(replica_cores_down / p["pg_cores_per_node"])
    write_cpu = sum(share * phases[k]["pg_cpu_ms"] for k, share in WRITE_KINDS.items())
    primary_cores_down = reads_cpu_down * p["signed_in_share"] + (
        rps * w * write_cpu / 1000 / p["pg_utilisation"]
    )
    app_cores_down = (
        rps * ((1 - w) * uncached["app_cpu_ms"] + w * per_req("app_cpu_ms")) / 1000
    ) / p["app_utilisation"]
    return {
        "users": users,
        "assumptions": {**p, "hit_rate": h},
        "requests_per_second": rps,
        "app_cores": math.ceil(app_cores),
        "redis_commands_per_second": round(redis_cmds),
        "redis_shards": max(shards_cpu, shards_memory, 1),
        "redis_shards_by_cpu": shards_cpu,
        "redis_memory_gb": round(memory_gb, 2),
        "pg_statements_per_second": round(rps * per_req("pg_stmts")),
        "pg_primary_cores": round(pg_primary_cores, 2),
        "pg_replicas_steady": 0,
        "pg_replicas_for_redis_outage": replicas_for_outage,
        "pg_primary_cores_for_redis_outage": round(primary_cores_down, 2),
        "app_cores_for_redis_outage": math.ceil(app_cores_down),
    }


def print_model(rows: list[dict]) -> None:
    print("model (per the assumptions printed with it):")
    print(f"  {'users':>8} {'req/s':>8} {'app cores':>10} {'redis cmd/s':>12} "
          f"{'shards':>7} {'redis GB':>9} {'pg stmt/s':>10} {'primary cores':>14} "
          f"| Redis down: {'replicas':>8} {'primary cores':>13} {'app cores':>9}")  # fmt: skip
    for r in rows:
        print(
            f"  {r['users']:>8} {r['requests_per_second']:>8.0f} {r['app_cores']:>10} "
            f"{r['redis_commands_per_second']:>12} {r['redis_shards']:>7} "
            f"{r['redis_memory_gb']:>9} {r['pg_statements_per_second']:>10} "
            f"{r['pg_primary_cores']:>14} | {'':>10} {r['pg_replicas_for_redis_outage']:>8} "
            f"{r['pg_primary_cores_for_redis_outage']:>13} {r['app_cores_for_redis_outage']:>9}"
        )


# -- 3. the festival day ----------------------------------------------------------------
# (hour, share of the peak): night, the morning performances at the Auditorio, an
# afternoon lull, the opening-night spike at 20:00, then the night.
DAY_CURVE = [
    (0, 0.06), (6, 0.04), (8, 0.12), (10, 0.45), (12, 0.5), (14, 0.3), (17, 0.3),
    (19.5, 0.45), (20, 1.0), (21, 0.9), (22, 0.5), (24, 0.08),
]  # fmt: skip


def day_share(hour: float) -> float:
    for (h0, s0), (h1, s1) in itertools.pairwise(DAY_CURVE):
        if h0 <= hour <= h1:
            return s0 + (s1 - s0) * (hour - h0) / (h1 - h0)
    return DAY_CURVE[-1][1]


def replay(fx: dict, redis: PrivateRedis, costs: dict, args) -> dict:
    warm_cpu = costs["read_fit"]["app_cpu_ms"]
    h = costs["phases"]["reads warm"]["hit_rate"]
    mix_cost_ms = (1 - WRITE_SHARE) * (warm_cpu["hit"] * h + warm_cpu["miss"] * (1 - h)) + (
        WRITE_SHARE * sum(s * costs["phases"][k]["app_cpu_ms"] for k, s in WRITE_KINDS.items())
    )
    capacity = args.workers * 1000 / mix_cost_ms  # req/s at 100 % of the workers' cores
    # This machine's cores are shared (other jobs, the clients): the peak is a share of
    # what the warm phase actually got through, not of the CPU-bound capacity.
    delivered = costs["phases"]["reads warm"]["rps"]
    peak = args.peak_rps or round(args.peak_share * min(capacity, delivered))
    print(
        f"replay: CPU-bound capacity of {args.workers} workers {capacity:.0f} req/s, "
        f"delivered by 4 closed-loop clients {delivered:.0f} req/s; peak {peak} req/s; "
        f"a day in {args.day_seconds:.0f} s",
        flush=True,
    )
    mix = make_mix(fx)
    step = 1.0
    steps = int(args.day_seconds / step)
    schedule = [peak * day_share(24 * (i + 0.5) / steps) for i in range(steps)]
    redis_flush(redis)
    segments = []
    with server(redis, {"CACHE_ENABLED": "true"}, workers=args.workers) as (port, pid):
        probe = Probe(port, pid, redis, args.dbname)
        try:
            # A day starts with the cache of the night before: warm it at the night rate.
            run_load(port, mix, seconds=args.warmup, procs=1, threads=2, seed=11)
            overhead = scrape_overhead(probe)
            segments = _open_loop(probe, mix, schedule, step, args.segment, overhead)
        finally:
            probe.close()
    return {"capacity_rps": capacity, "peak_rps": peak, "segments": segments}


def _open_loop(probe, mix, schedule, step, segment_seconds, overhead, threads=32) -> list:
    items: queue.Queue = queue.Queue()
    rng = random.Random(5)
    t0 = time.monotonic() + 0.5
    carry = 0.0
    for i, rate in enumerate(schedule):
        carry += rate * step
        n, carry = int(carry), carry - int(carry)
        for j in range(n):
            items.put((t0 + i * step + j * step / max(n, 1), mix(rng)))
    records: list[tuple[float, str, float, int]] = []
    lock = threading.Lock()

    def worker() -> None:
        local = []
        while True:
            try:
                due, req = items.get_nowait()
            except queue.Empty:
                break
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                status = send(probe.port, req)
            except OSError:
                status = 0
            # Latency from when the request was due: queueing counts (open loop).
            local.append((due, req.name, (time.monotonic() - due) * 1000, status))
        with lock:
            records.extend(local)

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    snaps = []
    end = t0 + len(schedule) * step
    boundary = t0
    while boundary <= end + 1e-9:
        time.sleep(max(0.0, boundary - time.monotonic()))
        snaps.append((boundary, probe.snap()))
        boundary += segment_seconds
    for t in pool:
        t.join(timeout=60)
    segments = []
    for (start, before), (stop, after) in itertools.pairwise(snaps):
        # Latency by when requests were due; the counters by when they were served (a
        # backlog after the spike is served, and counted, in later segments).
        rows = [r for r in records if start <= r[0] < stop]
        done = [r for r in records if start <= r[0] + r[2] / 1000 < stop]
        segments.append(
            {
                "hour": round(24 * ((start + stop) / 2 - t0) / (len(schedule) * step), 2),
                "sent": len(rows),
                "rps": len(rows) / (stop - start),
                "kinds": dict(Counter(r[1] for r in done)),
                "p50_ms": percentile([r[2] for r in rows], 50),
                "p99_ms": percentile([r[2] for r in rows], 99),
                "errors": sum(1 for r in rows if r[3] == 0 or r[3] >= 500),
                "measured": diff(after, before, overhead),
            }
        )
    return segments


def check(costs: dict, replayed: dict, workers: int) -> list[dict]:
    """Per segment: predicted (from the requests sent and the measured hit rate) vs
    measured app CPU, Redis commands, PostgreSQL statements and CPU."""
    fit, phases = costs["read_fit"], costs["phases"]
    out = []
    for seg in replayed["segments"]:
        m = seg["measured"]
        lookups = m["hits"] + m["misses"]
        h = m["hits"] / lookups if lookups else 1.0
        reads = sum(v for k, v in seg["kinds"].items() if not k.startswith("w_"))

        seconds = m["time"]

        def predict(q: str, scale: float, seg=seg, reads=reads, h=h, seconds=seconds) -> float:
            value = reads * (fit[q]["hit"] * h + fit[q]["miss"] * (1 - h))
            value += sum(n * phases[k][q] for k, n in seg["kinds"].items() if k.startswith("w_"))
            if q == "app_cpu_ms":
                value += seconds * phases["idle"]["app_cpu_ms_per_second"]
            return value / scale

        row = {
            "hour": seg["hour"],
            "rps": round(seg["rps"], 1),
            "hit_rate": round(h, 3),
            "predicted_utilisation": round(predict("app_cpu_ms", 1000) / seconds / workers, 2),
            "p50_ms": round(seg["p50_ms"], 1),
            "p99_ms": round(seg["p99_ms"], 1),
            "errors": seg["errors"],
            "load1": m["load1"],
        }
        for q, scale, measured in (
            ("app_cpu_ms", 1000, m["app_cpu"]),
            ("redis_cmds", 1, m["redis_cmds"]),
            ("pg_stmts", 1, m["pg_stmts"]),
            ("pg_cpu_ms", 1000, m["pg_cpu"]),
        ):
            predicted = predict(q, scale)
            row[q.replace("_ms", "")] = {
                "predicted": round(predicted, 3),
                "measured": round(measured, 3),
                "ratio": round(measured / predicted, 2) if predicted else None,
            }
        out.append(row)
    return out


def print_check(rows: list[dict]) -> dict:
    print("festival day: measured / predicted per segment")
    print(f"  {'hour':>5} {'req/s':>6} {'hit':>6} {'util':>5} {'p50':>6} {'p99':>7} "
          f"{'app CPU':>8} {'redis cmd':>10} {'pg stmt':>8} {'pg CPU':>7} {'err':>4} "
          f"{'load':>5}")  # fmt: skip
    for r in rows:
        print(
            f"  {r['hour']:>5} {r['rps']:>6} {r['hit_rate']:>6} "
            f"{r['predicted_utilisation']:>5} {r['p50_ms']:>6} {r['p99_ms']:>7} "
            f"{r['app_cpu']['ratio']!s:>8} {r['redis_cmds']['ratio']!s:>10} "
            f"{r['pg_stmts']['ratio']!s:>8} {r['pg_cpu']['ratio']!s:>7} {r['errors']:>4} "
            f"{r['load1']:>5}"
        )
    totals = {}
    for q in ("app_cpu", "redis_cmds", "pg_stmts", "pg_cpu"):
        predicted = sum(r[q]["predicted"] for r in rows)
        measured = sum(r[q]["measured"] for r in rows)
        totals[q] = round(measured / predicted, 3) if predicted else None
    print(f"  whole day, measured / predicted: {json.dumps(totals)}")
    return totals


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=15, help="per read phase")
    ap.add_argument("--write-seconds", type=float, default=4, help="per write kind")
    ap.add_argument("--warmup", type=float, default=20)
    ap.add_argument("--idle-seconds", type=float, default=8)
    ap.add_argument("--day-seconds", type=float, default=240)
    ap.add_argument("--segment", type=float, default=10, help="seconds per compared segment")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--peak-share", type=float, default=0.5, help="of the warm phase's throughput")
    ap.add_argument("--peak-rps", type=float, default=0)
    ap.add_argument("--signed-in", type=int, default=200)
    ap.add_argument("--users", default="10000,50000,200000", help="model rows")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out"))
    ap.add_argument(
        "--model-only",
        metavar="JSON",
        help="no measuring: the model from the costs of an earlier run's JSON "
        "(e.g. bench/results/capacity.json)",
    )
    ap.add_argument(
        "--assume",
        type=lambda kv: (kv.split("=", 1)[0], float(kv.split("=", 1)[1])),
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override an assumption of the model, e.g. requests_per_user_second=0.2",
    )
    args = ap.parse_args()
    if args.model_only:
        costs = json.loads(Path(args.model_only).read_text())["costs"]
        rows = [model(costs, int(n), **dict(args.assume)) for n in args.users.split(",")]
        print_model(rows)
        print(f"  assumptions: {json.dumps(rows[0]['assumptions'])}")
        return

    from django.conf import settings

    fx = load_fixture(args.signed_in)
    args.dbname = settings.DATABASES["default"]["NAME"]
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"data: {len(fx['users'])} users sampled, {len(fx['events'])} events, "
          f"{len(fx['experiences'])} experiences; database {args.dbname}", flush=True)  # fmt: skip
    redis = PrivateRedis()
    redis.start()
    try:
        costs = measure_costs(fx, redis, args)
        rows = [model(costs, int(n), **dict(args.assume)) for n in args.users.split(",")]
        print_model(rows)
        print(f"  assumptions: {json.dumps(rows[0]['assumptions'])}")
        replayed = replay(fx, redis, costs, args)
        checked = check(costs, replayed, args.workers)
        totals = print_check(checked)
    finally:
        redis.kill()
        shutil.rmtree(redis.dir, ignore_errors=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    payload = {
        "command": " ".join(sys.argv),
        "args": vars(args),
        "costs": costs,
        "model": rows,
        "replay": {k: v for k, v in replayed.items() if k != "segments"},
        "check": checked,
        "check_totals": totals,
    }
    path = out / f"capacity-{stamp}.json"
    path.write_text(json.dumps(payload, indent=2, default=str))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
