"""PostgreSQL drop drill: a running server under load while its database connections
are terminated (pg_terminate_backend), as a restart or failover would.

    .venv/bin/python bench/pg_drop_drill.py --base-url http://127.0.0.1:3191 \\
        --database gc_bench [--seconds 20] [--threads 4] [--interval 0.3]

Serve the app first with the cache and the rate limits off, so that every request
reaches PostgreSQL and none is refused with a 429:
``CACHE_ENABLED=false RATE_LIMITS_ENABLED=false PORT=3191 bash scripts/start.sh``
(seeded: `make seed`). Threads send a mix of reads and writes (events, experiences,
the leaderboard; RSVP and un-RSVP, check-in, as the demo user) while another thread
terminates every backend of ``--database`` each ``--interval`` seconds. Prints the
status codes per route. A lost connection must give a retried 2xx or a 503, never a
500 (guelaguetza/api/dbretry.py). Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import random
import threading
import time
from urllib.parse import urlsplit

import psycopg


def request(conn, method: str, path: str, token: str | None = None) -> int:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=b"{}" if method != "GET" else None, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


def login(host: str, port: int) -> str:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    body = json.dumps({"email": "demo@guelaguetza.mx", "password": "password123"})
    conn.request("POST", "/api/auth/login", body=body, headers={"Content-Type": "application/json"})
    return json.loads(conn.getresponse().read())["token"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--db-host", default="127.0.0.1")
    parser.add_argument("--db-user", default="postgres")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--interval", type=float, default=0.3)
    args = parser.parse_args()
    url = urlsplit(args.base_url)
    host, port = url.hostname, url.port or 80
    token = login(host, port)

    probe = http.client.HTTPConnection(host, port, timeout=10)
    probe.request("GET", "/api/events?page=1&limit=5")
    events = [e["id"] for e in json.loads(probe.getresponse().read())["data"]["events"]]
    mix = [
        ("GET", "/api/events?page=1&limit=10", None),
        ("GET", "/api/bookings/experiences", None),
        ("GET", "/api/gamification/leaderboard?page=1&limit=20", None),
        ("GET", "/api/auth/me", token),
        ("POST", "/api/gamification/me/check-in", token),
        ("POST", "/api/events/{event}/rsvp", token),
        ("DELETE", "/api/events/{event}/rsvp", token),
    ]
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    lock = threading.Lock()
    stop = time.monotonic() + args.seconds
    terminated = 0

    def client(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection(host, port, timeout=30)
        while time.monotonic() < stop:
            method, path, auth = rng.choice(mix)
            route = f"{method} {path}"
            path = path.format(event=rng.choice(events))
            try:
                status = request(conn, method, path, auth)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
                status = 0  # connection error
            with lock:
                counts[route][status] += 1

    def killer() -> None:
        nonlocal terminated
        with psycopg.connect(
            host=args.db_host, user=args.db_user, dbname="postgres", autocommit=True
        ) as admin:
            while time.monotonic() < stop:
                time.sleep(args.interval)
                rows = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    [args.database],
                ).fetchall()
                terminated += sum(1 for (ok,) in rows if ok)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.threads)]
    threads.append(threading.Thread(target=killer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    total = collections.Counter()
    print(f"backends terminated: {terminated} in {args.seconds:.0f} s")
    for route, statuses in sorted(counts.items()):
        total.update(statuses)
        print(f"{route:52} {dict(sorted(statuses.items()))}")
    print(f"{'all':52} {dict(sorted(total.items()))}")
    print(f"5xx: {sum(n for s, n in total.items() if s >= 500)} "
          f"(500: {total[500]}, 503: {total[503]})")  # fmt: skip


if __name__ == "__main__":
    main()
