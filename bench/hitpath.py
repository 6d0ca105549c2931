"""Hit path: what a cache hit costs here beside the original Node backend and bare Django.

    make bench-peer bench-deps        # once: the peer's node_modules, gunicorn, wrk below
    apt-get install wrk               # else the bench/_harness.py client is used
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/gc_bench REDIS_URL=redis://127.0.0.1:6379/8
    .venv/bin/python bench/hitpath.py [--rounds 3] [--seconds 10] [--servers "granian gunicorn"]

Starts the peer (bench/peer: the original's hit path rebuilt), the project and a bare
Django view on loopback, drives each in rotating rounds with wrk (or the harness's
client), and prints req/s, latency, CPU per request and their ratios; what each target
serves and how it is compared: bench/README.md. Writes everything to
bench/results/hitpath.txt (--out); asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guelaguetza.settings")

from bench._harness import (
    ROOT,
    SERVER_GROUPS,
    SERVERS,
    Req,
    app_server,
    cpu_seconds,
    free_port,
    percentile,
    run_load,
    wait_http,
)

LEADERBOARD = "/api/gamification/leaderboard?page=1&limit=20"
ME_STATS = "/api/gamification/me/stats"
BARE = "/bare"
PEER_DIR = ROOT / "bench" / "peer"
PEER_PREFIX = "hitpath-peer:"
BARE_APP = "bench.bare_wsgi:application"


@dataclass
class Target:
    name: str
    port: int
    path: str
    token: str | None = None
    runs: list[dict] = field(default_factory=list)


# -- the peer -----------------------------------------------------------------------------
@contextlib.contextmanager
def peer(redis_url: str):
    if not (PEER_DIR / "node_modules").is_dir():
        sys.exit("bench/peer is not installed: run `make bench-peer` (needs Node.js 20, npm)")
    port = free_port()
    env = {**os.environ, "PORT": str(port), "REDIS_URL": redis_url, "PEER_KEY_PREFIX": PEER_PREFIX}
    proc = subprocess.Popen(["node", "server.js"], cwd=PEER_DIR, env=env, start_new_session=True)
    SERVER_GROUPS[port] = proc.pid
    try:
        wait_http(port, "/metrics")
        yield port
    finally:
        SERVER_GROUPS.pop(port, None)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)


def get(port: int, path: str, token: str | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body


def signed_in_token() -> str:
    """An access token of the leaderboard's top user (read from the bench database)."""
    import django

    django.setup()
    from accounts.models import User
    from accounts.tokens import access_token_issue

    user = User.objects.order_by("-stats__xp", "id").first()
    if user is None:
        sys.exit("No users: run `make bench-seed` with this DATABASE_URL first.")
    return access_token_issue(user).token


def store_peer_page(redis_url: str, project_port: int, peer_port: int) -> int:
    """The project's page 1 (its ``data``) under the peer's key; returns the body size."""
    import orjson
    import redis

    status, body = get(project_port, LEADERBOARD)
    if status != 200:
        sys.exit(f"project leaderboard answered {status}: {body[:200]!r}")
    data = orjson.loads(body)["data"]
    client = redis.Redis.from_url(redis_url)
    client.set(f"{PEER_PREFIX}leaderboard:page:1:limit:20", orjson.dumps(data), ex=3600)
    status, peer_body = get(peer_port, LEADERBOARD)
    if status != 200 or orjson.loads(peer_body) != orjson.loads(body):
        sys.exit(f"the peer does not answer the project's page: {status} {peer_body[:200]!r}")
    return len(body)


# -- load ---------------------------------------------------------------------------------
_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNIT[unit]


def measured(run):
    """``run`` plus the server's CPU time per request: on this shared machine req/s moves
    with the other processes' load, CPU per request much less."""

    def wrapper(target: Target, seconds: float, threads: int, connections: int) -> dict:
        group = SERVER_GROUPS[target.port]
        before = cpu_seconds(group)
        result = run(target, seconds, threads, connections)
        used = cpu_seconds(group) - before
        result["cpu_us"] = used / result["requests"] * 1e6 if result["requests"] else float("nan")
        return result

    return wrapper


def run_wrk(target: Target, seconds: float, threads: int, connections: int) -> dict:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    if target.token:
        cmd += ["-H", f"Authorization: Bearer {target.token}"]
    cmd.append(f"http://127.0.0.1:{target.port}{target.path}")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.MULTILINE))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)$", out, re.MULTILINE)
    return {
        "requests": int(re.search(r"(\d+) requests in", out)[1]),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
        "p50_ms": _ms(latency["50"]),
        "p99_ms": _ms(latency["99"]),
        "non_2xx": int(bad[1]) if bad else 0,
        "socket_errors": errors[1] if errors else "",
        "raw": out,
    }


def run_harness(target: Target, seconds: float, threads: int, connections: int) -> dict:
    req = Req(target.name, "GET", target.path, target.token)
    procs = max(1, threads)
    result = run_load(
        target.port, lambda rng: req, seconds=seconds, procs=procs, threads=connections // procs
    )
    n = len(result.latencies_ms)
    bad = sum(v for k, v in result.statuses.items() if not 200 <= k < 400)
    return {
        "requests": n,
        "rps": n / result.elapsed if result.elapsed else 0.0,
        "p50_ms": percentile(result.latencies_ms, 50),
        "p99_ms": percentile(result.latencies_ms, 99),
        "non_2xx": bad,
        "socket_errors": str(result.errors) if result.errors else "",
        "raw": json.dumps({"requests": n, "statuses": result.statuses, "errors": result.errors}),
    }


# -- report -------------------------------------------------------------------------------
def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ratio_line(label: str, top: Target, bottom: Target) -> tuple[str, float, float]:
    """req/s of ``top`` over ``bottom`` (median of the per-round ratios), and the same
    from server CPU per request (bottom's CPU/request over top's: what the ratio of
    req/s would be if each server had the machine to itself and were CPU-bound)."""
    pairs = list(zip(top.runs, bottom.runs, strict=True))
    per_round = [a["rps"] / b["rps"] for a, b in pairs]
    by_cpu = median([b["cpu_us"] / a["cpu_us"] for a, b in pairs])
    value = median(per_round)
    spread = ", ".join(f"{r:.2f}" for r in per_round)
    return (
        f"{label:<52} {value:5.2f}x  (rounds: {spread});  by CPU/request {by_cpu:5.2f}x",
        value,
        by_cpu,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=3, help="seconds per target, unrecorded")
    ap.add_argument("--threads", type=int, default=2, help="wrk -t")
    ap.add_argument("--connections", type=int, default=32, help="wrk -c")
    ap.add_argument("--workers", type=int, default=2, help="server workers (WEB_CONCURRENCY)")
    ap.add_argument(
        "--servers",
        default="granian",
        help=f"space-separated, each one of {', '.join(SERVERS)}, optionally with settings of "
        "its own: 'granian granian:WEB_THREADS=4,ACCESS_LOG=true gunicorn'",
    )
    ap.add_argument("--client", choices=("auto", "wrk", "harness"), default="auto")
    ap.add_argument(
        "--env",
        action="append",
        default=[],
        type=lambda kv: tuple(kv.split("=", 1)),
        help="KEY=VALUE for the project's server (e.g. WEB_THREADS=2, ACCESS_LOG=true)",
    )
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "hitpath.txt"))
    args = ap.parse_args()
    servers = args.servers.split()
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "harness"
    run = measured(run_wrk if client == "wrk" else run_harness)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    server_env = {"CACHE_ENABLED": "true", **dict(args.env)}

    command = " ".join(["python bench/hitpath.py", *map(shlex.quote, sys.argv[1:])])
    lines = [
        f"command: {command}",
        f"date: {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}; cores: {os.cpu_count()}",
        f"env: DATABASE_URL={os.environ.get('DATABASE_URL', '(default)')} REDIS_URL={redis_url}",
        f"client: {client} (-t{args.threads} -c{args.connections}), {args.rounds} rounds of "
        f"{args.seconds:g}s per target after {args.warmup:g}s warm-up, order rotating",
        f"servers: {', '.join(servers)}, {args.workers} workers; project env: "
        f"access log off, rate limits off, {server_env}",
    ]
    print("\n".join(lines), flush=True)
    token = signed_in_token()
    raw: list[str] = []

    # The servers' own output (their access logs, when on) goes to a file, as in production,
    # not to this terminal.
    server_log = ROOT / "bench" / "out" / "hitpath-servers.log"
    server_log.parent.mkdir(parents=True, exist_ok=True)
    lines.append(f"server output: {server_log.relative_to(ROOT)}")
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(server_log.open("w"))
        peer_port = stack.enter_context(peer(redis_url))
        targets: list[Target] = [Target("peer leaderboard", peer_port, LEADERBOARD)]
        size = None
        for server in servers:
            kind, _, own = server.partition(":")
            env = {**server_env, **dict(kv.split("=", 1) for kv in own.split(",") if kv)}
            project = stack.enter_context(
                app_server(env, workers=args.workers, server=kind, log=log)
            )
            bare = stack.enter_context(
                app_server(
                    env, workers=args.workers, server=kind, app=BARE_APP, wait_path=BARE, log=log
                )
            )
            for _ in range(2):  # miss, then hit: both cached before any measure
                get(project, LEADERBOARD)
                status, body = get(project, ME_STATS, token)
            if status != 200:
                sys.exit(f"me/stats answered {status}: {body[:200]!r}")
            size = store_peer_page(redis_url, project, peer_port)
            targets += [
                Target(f"{server}: project leaderboard", project, LEADERBOARD),
                Target(f"{server}: project me/stats", project, ME_STATS, token),
                Target(f"{server}: bare Django", bare, BARE),
            ]
        lines.append(f"leaderboard page body: {size} bytes")
        print(lines[-1], flush=True)

        for target in targets:
            run(target, args.warmup, args.threads, args.connections)
        for round_ in range(args.rounds):
            shift = round_ % len(targets)
            for target in targets[shift:] + targets[:shift]:
                result = run(target, args.seconds, args.threads, args.connections)
                target.runs.append(result)
                line = (
                    f"round {round_ + 1} {target.name:<32} {result['rps']:9.1f} req/s  "
                    f"p50 {result['p50_ms']:6.2f}  p99 {result['p99_ms']:6.2f} ms  "
                    f"server CPU {result['cpu_us']:6.0f} us/req"
                )
                if result["non_2xx"] or result["socket_errors"]:
                    line += f"  non-2xx {result['non_2xx']} socket errors {result['socket_errors']}"
                print(line, flush=True)
                lines.append(line)
                raw.append(f"--- round {round_ + 1}: {target.name}\n{result['raw']}")
                time.sleep(1)

    # Runs are stored by target in round order, whatever order they ran in.
    table = [
        "",
        f"{'target':<46} {'req/s (median)':>14}  {'range':>17}  {'p50':>6}  {'p99 ms':>6}"
        f"  {'server CPU us/req':>17}",
    ]
    for t in targets:
        rps = [r["rps"] for r in t.runs]
        table.append(
            f"{t.name:<46} {median(rps):14,.0f}  {min(rps):7,.0f}-{max(rps):<9,.0f}  "
            f"{median([r['p50_ms'] for r in t.runs]):6.2f}  "
            f"{median([r['p99_ms'] for r in t.runs]):6.2f}  "
            f"{median([r['cpu_us'] for r in t.runs]):17.0f}"
        )
    table.append("")
    peer_t = targets[0]
    by_name = {t.name: t for t in targets}
    summary = {}
    for server in servers:
        lb, me, bare = (
            by_name[f"{server}: {n}"]
            for n in ("project leaderboard", "project me/stats", "bare Django")
        )
        for label, top, bottom in (
            (f"{server}: project leaderboard / peer", lb, peer_t),
            (f"{server}: project me/stats / peer leaderboard", me, peer_t),
            (f"{server}: project leaderboard / bare Django", lb, bare),
            (f"{server}: bare Django / peer", bare, peer_t),
        ):
            text, value, by_cpu = ratio_line(label, top, bottom)
            table.append(text)
            summary[label] = {"rps": round(value, 3), "cpu": round(by_cpu, 3)}
    if len(servers) > 1:
        first = servers[0]
        for other in servers[1:]:
            for name in ("project leaderboard", "project me/stats", "bare Django"):
                label = f"{name}: {first} / {other}"
                text, value, by_cpu = ratio_line(
                    label, by_name[f"{first}: {name}"], by_name[f"{other}: {name}"]
                )
                table.append(text)
                summary[label] = {"rps": round(value, 3), "cpu": round(by_cpu, 3)}
    print("\n".join(table))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        "\n".join(lines + table)
        + "\n\nratios: "
        + json.dumps(summary)
        + "\n\n# raw client output\n"
        + "\n".join(raw)
    )
    print(f"\nwrote {out}\nreproduce: {command}")


if __name__ == "__main__":
    main()
