"""In-process profile of a cache hit: CPU of CachedReadApp per call, no HTTP server.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/gc_bench REDIS_URL=redis://127.0.0.1:6379/8
    .venv/bin/python bench/hit_profile.py [-n 20000] [--profile] [--routes leaderboard me_stats]

Sets Django up as the bench servers run it (DEBUG off, rate limits off, cache on,
Prometheus multiprocess mode in a temporary directory), warms a leaderboard page and a
signed-in ``/api/gamification/me/stats`` through the WSGI application itself (miss, then
hit), checks both answer 200 from the hit layer, then calls
``guelaguetza.wsgi.application(environ, start_response)`` N times per route and prints
microseconds per call (best of 3 runs) and, with --profile, a cProfile top 25 per route.
The Redis round trip is included (a real one, to REDIS_URL). Asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guelaguetza.settings")
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="gc-hit-profile-"))
os.environ.update(
    {
        "DJANGO_DEBUG": "false",
        "RATE_LIMITS_ENABLED": "false",
        "CACHE_ENABLED": "true",
        "ACCESS_LOG": "false",
        "LOG_LEVEL": "WARNING",
    }
)

LEADERBOARD = ("/api/gamification/leaderboard", "page=1&limit=20")
ME_STATS = ("/api/gamification/me/stats", "")


def environ_for(path: str, query: str, token: str | None, extra: dict | None = None) -> dict:
    env = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_ACCEPT": "*/*",
        "HTTP_USER_AGENT": "wrk",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    if token:
        env["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    env.update(extra or {})
    return env


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=20000, help="calls per route and run")
    ap.add_argument("--profile", action="store_true", help="cProfile top 25 per route")
    ap.add_argument("--routes", nargs="*", default=["leaderboard", "me_stats"])
    args = ap.parse_args()

    from bench.hitpath import signed_in_token

    token = signed_in_token()
    from guelaguetza.api import cached
    from guelaguetza.wsgi import application

    routes = {
        "leaderboard": environ_for(*LEADERBOARD, None),
        "me_stats": environ_for(*ME_STATS, token),
    }
    status_seen: list[str] = []

    def start_response(status, headers, exc_info=None):
        status_seen.append(status)

    # The hit layer's lookup (``serve`` in older versions): a hit is neither None (a
    # miss) nor a set of keys due for refresh-ahead.
    hook = "lookup" if hasattr(cached, "lookup") else "serve"
    served_by_hit = []
    real = getattr(cached, hook)

    def spy(*args):
        outcome = real(*args)
        served_by_hit.append(not isinstance(outcome, frozenset | type(None)))
        return outcome

    for name in args.routes:
        for _ in range(3):  # miss (the view stores it), then hits
            served_by_hit.clear()
            status_seen.clear()
            setattr(cached, hook, spy)
            try:
                b"".join(application(dict(routes[name]), start_response))
            finally:
                setattr(cached, hook, real)
        if not (status_seen and status_seen[0].startswith("200") and served_by_hit[-1:] == [True]):
            sys.exit(f"{name}: not a 200 hit after warming ({status_seen}, {served_by_hit})")

    def loop(env: dict, n: int) -> None:
        app, sr = application, start_response
        for _ in range(n):
            e = dict(env)
            b"".join(app(e, sr))

    for name in args.routes:
        env = routes[name]
        best = float("inf")
        for _ in range(3):
            start = time.process_time()
            loop(env, args.n)
            best = min(best, (time.process_time() - start) / args.n * 1e6)
            status_seen.clear()
        print(f"{name:<12} {best:7.1f} us/call CPU (best of 3 x {args.n})", flush=True)
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            loop(env, args.n)
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(25)
            print(out.getvalue())


if __name__ == "__main__":
    main()
