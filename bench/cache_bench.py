"""Benchmark of the cache layer against the issue's bars (issue 3, docs/cache.md).

One run prints:
1. hit latency of CacheService.get (and wrap) vs a raw redis-py GET of the same payload
   (and vs GET + json.loads, the floor of any JSON cache), median and p99 over N calls,
   with the ratio; bar: hit <= 1.5x raw GET;
2. invalidate('leaderboard:*') with 10k, 100k and 1M unrelated keys present, beside
   django-redis delete_pattern on the same data; bar: <= 1 ms at 1M keys, and flat;
3. a hung Redis: what wrap() adds once the breaker is open;
4. the after-commit invalidation of each write kind (booking, cancel, RSVP, un-RSVP,
   check-in, profile edit) run through the real services against DATABASE_URL (use the
   bench database: `make bench-seed`): p50/p99 of its Redis round trip and how many
   generations it bumps. Skipped, with a message, on a database without users.

By default it starts its own redis-server on a free port (no persistence) and stops it
at the end, so the shared server is never loaded with a million keys; ``--url`` points
it at another server instead (never DB 0). Run from the repository root:

    .venv/bin/python bench/cache_bench.py [--calls 20000] [--sizes 10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guelaguetza.settings")

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from django_redis.cache import RedisCache  # noqa: E402

from bench._harness import PrivateRedis  # noqa: E402
from guelaguetza.cache import CacheService, keys  # noqa: E402
from guelaguetza.cache.metrics import HITS, SECONDS  # noqa: E402

PREFIX = "guelaguetza:"
PAGES = 20  # leaderboard pages cached when the pattern is invalidated


def timed(fn, n: int) -> list[int]:
    out = []
    for _ in range(n):
        start = time.perf_counter_ns()
        fn()
        out.append(time.perf_counter_ns() - start)
    return out


def stats(samples: list[int]) -> tuple[float, float]:
    """(median, p99) in microseconds."""
    ordered = sorted(samples)
    return statistics.median(ordered) / 1000, ordered[int(len(ordered) * 0.99) - 1] / 1000


def bench_hits(url: str, calls: int) -> list[tuple[str, float, float]]:
    service = CacheService(redis_url=url, prefix=PREFIX)
    raw = redis.Redis.from_url(url)
    payloads = {
        "user stats (small)": (
            keys.user_stats(user_id="ckx00000000000000000001"),
            {"userId": "ckx00000000000000000001", "xp": 1234, "level": 5, "streak": 3},
        ),
        "leaderboard page (20 rows)": (
            keys.leaderboard_page(page=1, limit=20),
            {
                "data": [
                    {
                        "rank": i + 1,
                        "userId": f"ckx{i:020d}",
                        "nombre": "María José",
                        "apellido": "Hernández",
                        "avatar": None,
                        "xp": 5000 - i,
                        "level": 9,
                    }
                    for i in range(20)
                ],
                "pagination": {"page": 1, "limit": 20, "total": 1000, "totalPages": 50},
            },
        ),
    }
    ratios = []
    print(f"\n1. Hit latency, {calls} calls each, interleaved in rounds (microseconds)")
    print(f"   {'payload':<28}{'call':<26}{'median':>8}{'p99':>9}{'x raw GET':>11}")
    for label, (key, value) in payloads.items():
        service.set(key, value)
        assert service.get(key) == value
        raw_name = "bench:raw:" + key
        raw.set(raw_name, json.dumps(value, separators=(",", ":"), ensure_ascii=False))
        cases = {
            "raw redis-py GET": lambda n=raw_name: raw.get(n),
            "raw GET + json.loads": lambda n=raw_name: json.loads(raw.get(n)),
            "CacheService.get": lambda k=key: service.get(k),
            "CacheService.wrap (hit)": lambda k=key: service.wrap(k, dict),
        }
        samples: dict[str, list[int]] = {name: [] for name in cases}
        rounds = 20
        for fn in cases.values():
            timed(fn, 200)  # warm up connections and caches
        for _ in range(rounds):
            for name, fn in cases.items():
                samples[name] += timed(fn, max(1, calls // rounds))
        base = stats(samples["raw redis-py GET"])[0]
        size = len(json.dumps(value))
        for name in cases:
            median, p99 = stats(samples[name])
            print(f"   {label if name.startswith('raw redis') else '':<28}{name:<26}"
                  f"{median:>8.1f}{p99:>9.1f}{median / base:>10.2f}x")  # fmt: skip
        decoded = stats(samples["raw GET + json.loads"])[0]
        ours = stats(samples["CacheService.get"])[0]
        ratios.append((label, ours / base, ours / decoded))
        print(f"   {'':<28}(payload {size} bytes of JSON)")
    metric_cost = stats(
        timed(
            lambda: (
                HITS[keys.event_detail(event_id=1).family].inc(),
                SECONDS["get"].observe(1e-4),
            ),
            calls,
        )
    )[0]
    print(f"   metric updates on a hit (counter + histogram): {metric_cost:.1f} us median")
    raw.close()
    service.reset()
    return ratios


def fill(client: redis.Redis, start: int, stop: int) -> None:
    """Unrelated keys under the same prefix (experience details), 10k per MSET."""
    for lo in range(start, stop, 10_000):
        hi = min(stop, lo + 10_000)
        client.mset({f"{PREFIX}experience:bench{i}:detail": b"x" * 16 for i in range(lo, hi)})


def bench_invalidate(url: str, sizes: list[int], runs: int) -> list[tuple[int, float]]:
    service = CacheService(redis_url=url, prefix=PREFIX)
    client = redis.Redis.from_url(url)
    django_redis = RedisCache(url, {"KEY_FUNCTION": lambda key, prefix, version: key})
    pages = [keys.leaderboard_page(page=p, limit=20) for p in range(1, PAGES + 1)]

    def cache_pages() -> None:
        for key in pages:
            service.set(key, {"page": str(key)})
            client.set("djr:" + PREFIX + key, b"{}")  # the same pages, for django-redis

    print(f"\n2. invalidate('leaderboard:*') with {PAGES} pages cached (milliseconds)")
    print(f"   {'unrelated keys':>14}{'CacheService med':>18}{'p99':>8}"
          f"{'django-redis delete_pattern':>30}{'(itersize 1000)':>17}")  # fmt: skip
    client.flushdb()
    filled = 0
    medians = []
    for size in sizes:
        fill(client, filled, size)
        filled = size
        cache_pages()
        ours = timed(lambda: service.invalidate("leaderboard:*"), runs)
        assert all(service.get(k) is None for k in pages)
        median, p99 = stats(ours)
        theirs = []
        for itersize in (None, 1000):
            took = []
            for _ in range(1 if size >= 1_000_000 and itersize is None else 3):
                cache_pages()
                start = time.perf_counter_ns()
                kwargs = {"itersize": itersize} if itersize else {}
                deleted = django_redis.delete_pattern("djr:" + PREFIX + "leaderboard:*", **kwargs)
                took.append(time.perf_counter_ns() - start)
                assert deleted == PAGES
            theirs.append(statistics.median(took) / 1e6)
        print(f"   {size:>14,}{median / 1000:>18.3f}{p99 / 1000:>8.3f}"
              f"{theirs[0]:>30.1f}{theirs[1]:>17.1f}")  # fmt: skip
        medians.append((size, median / 1000))
    client.flushdb()
    client.close()
    service.reset()
    return medians


def bench_hung(calls: int) -> tuple[float, float, float]:
    """A private redis-server SIGSTOPped: once the breaker is open, what does a wrap()
    add over calling its loader directly? (median and p99 in us, and the worst call)."""
    server = PrivateRedis()
    server.start()
    try:
        service = CacheService(redis_url=server.url, prefix=PREFIX)
        key = keys.user_stats(user_id="ckx00000000000000000001")
        service.wrap(key, lambda: {"xp": 1})  # connected, warm
        server.pause()
        opening = time.perf_counter()
        while service.breaker.state != "open":
            service.wrap(key, lambda: {"xp": 1})
        opening = time.perf_counter() - opening
        value = {"xp": 1}
        direct = timed(lambda: (lambda: value)(), calls)
        through = timed(lambda: service.wrap(key, lambda: value), calls)
        added = [max(0, t - d) for t, d in zip(sorted(through), sorted(direct), strict=True)]
        med, p99 = stats(added)
        print(f"\n3. Redis hung (SIGSTOP): the breaker opened after {opening * 1000:.0f} ms; "
              f"then wrap() adds, over its loader ({calls} calls, us):")  # fmt: skip
        print(f"   median {med:.2f}   p99 {p99:.2f}   worst {max(through) / 1000:.1f}")
        return med, p99, max(through) / 1000
    finally:
        server.stop()  # SIGCONT first


def bench_write_kinds(url: str, writes: int) -> None:
    """Section 4: every invalidation a write schedules is applied in one pipelined round
    trip after its commit (CacheService.apply); time those calls per write kind."""
    import datetime as dt

    from django.conf import settings
    from django.db import transaction

    from accounts.models import User
    from accounts.services import profile_update
    from events import services as events
    from events.models import Event
    from experiences.models import Booking, ExperienceTimeSlot
    from experiences.services import bookings
    from gamification import services as gamification
    from guelaguetza.cache import cache
    from guelaguetza.errors import DomainError

    users = list(User.objects.order_by("?")[: writes * 2])
    slots = list(
        ExperienceTimeSlot.objects.filter(is_available=True, date__gte=dt.date.today())[:writes]
    )
    events_ = list(Event.objects.order_by("?")[:writes])
    if not (users and slots and events_):
        print("\n4. after-commit invalidation per write kind: skipped (no seeded data in "
              "DATABASE_URL: `make bench-seed` first)")  # fmt: skip
        return
    settings.REDIS_URL = url
    cache.reset()
    samples: list[tuple[float, int]] = []
    apply = cache.apply

    def timed_apply(ops, **kwargs):
        start = time.perf_counter_ns()
        apply(ops, **kwargs)
        samples.append(((time.perf_counter_ns() - start) / 1e6, len(list(ops))))

    cache.apply = timed_apply
    made: list[Booking] = []

    def book(i: int) -> None:
        slot = slots[i % len(slots)]
        made.append(bookings.booking_create(
            user=users[i], experience_id=slot.experience_id, time_slot_id=slot.id
        ))  # fmt: skip

    kinds = {
        "booking": book,
        "cancel": lambda i: made and bookings.booking_cancel(
            user=made[-1].user, booking_id=made.pop().id
        ),
        "rsvp": lambda i: events.event_rsvp_create(
            user=users[i], event_id=events_[i % len(events_)].id
        ),
        "un-rsvp": lambda i: events.event_rsvp_delete(
            user=users[i], event_id=events_[i % len(events_)].id
        ),
        "check-in (xp)": lambda i: gamification.xp_add(user=users[i], amount=10, reason="bench"),
        "profile edit": lambda i: profile_update(user=users[i], data={"nombre": f"Bench {i}"}),
    }  # fmt: skip
    print(f"\n4. After-commit invalidation per write kind ({writes} writes each, milliseconds)")
    print(f"   {'write':<16}{'p50':>8}{'p99':>8}{'generations bumped (median)':>30}")
    for name, write in kinds.items():
        samples.clear()
        per_write = []
        for i in range(writes):
            before = len(samples)
            try:
                with transaction.atomic():
                    write(i)
            except DomainError:
                continue  # a full slot, a repeated RSVP: nothing to invalidate
            mine = samples[before:]
            if mine:
                per_write.append((sum(t for t, _ in mine), sum(n for _, n in mine)))
        if not per_write:
            continue
        times = sorted(t for t, _ in per_write)
        p50 = times[len(times) // 2]
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        ops = statistics.median(n for _, n in per_write)
        print(f"   {name:<16}{p50:>8.3f}{p99:>8.3f}{ops:>30g}")
    cache.apply = apply


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an existing Redis (default: a private redis-server)")
    parser.add_argument("--calls", type=int, default=20_000, help="calls per hit case")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=200, help="invalidate() calls per size")
    parser.add_argument("--writes", type=int, default=200, help="writes per kind (section 4)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    command = (
        f".venv/bin/python bench/cache_bench.py --calls {args.calls} --sizes {args.sizes} "
        f"--runs {args.runs} --writes {args.writes}" + (f" --url {args.url}" if args.url else "")
    )
    server = None
    if args.url:
        url = args.url
        if redis.Redis.from_url(url).connection_pool.connection_kwargs.get("db", 0) == 0:
            parser.error("refusing DB 0 of a shared server: pass e.g. redis://host:6379/9")
    else:
        server = PrivateRedis()
        server.start()
        url = server.url
    try:
        print(f"cache bench: Redis {url}, Python {sys.version.split()[0]}, "
              f"redis-py {redis.__version__}, {os.cpu_count()} CPUs")  # fmt: skip
        ratios = bench_hits(url, args.calls)
        medians = bench_invalidate(url, sizes, args.runs)
        _, hung_p99, _ = bench_hung(args.calls)
        bench_write_kinds(url, args.writes)
    finally:
        if server is not None:
            server.stop()
    print("\nBars")
    for label, ratio, vs_decoded in ratios:
        verdict = "PASS" if ratio <= 1.5 else "FAIL"
        print(f"   hit <= 1.5x raw GET, {label}: {ratio:.2f}x  {verdict}"
              f"  ({vs_decoded:.2f}x raw GET + json.loads)")  # fmt: skip
    largest = medians[-1]
    flat = largest[1] / max(medians[0][1], 1e-9)
    verdict = "PASS" if largest[1] <= 1.0 else "FAIL"
    print(f"   invalidate <= 1 ms at {largest[0]:,} keys: {largest[1]:.3f} ms  {verdict}")
    print(f"   flat: {largest[0]:,} keys / {medians[0][0]:,} keys = {flat:.2f}x")
    verdict = "PASS" if hung_p99 <= 5000 else "FAIL"
    print(f"   Redis hung, breaker open: p99 added by wrap() {hung_p99:.2f} us <= 5 ms  {verdict}")
    print(f"\nreproduce: {command}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
