"""Festival load: cached vs uncached on the same code, beside a constant-bytes floor.

    .venv/bin/python bench/load.py [--seconds 20] [--warmup 60] [--procs 1] [--threads 4]

Needs seeded data (`manage.py seed_demo --users 100000 --events 1000 --experiences 500`
for the README figures). Starts a private redis-server (empty) and its own app server
(scripts/start.sh) twice on loopback (CACHE_ENABLED=true, then false; rate limits off),
drives a Zipf-skewed mix of anonymous and signed-in reads with ~2% writes, and reads hit
rate and DB statements per request from /metrics, per key family too. Beside each
family's loads (misses + refresh-ahead recomputes) it prints the TTL-only floor of the
same request sequence (:func:`ttl_floor`): what any cache whose values live at most
their TTL must load, so what the writes add is the difference. Writes a JSON file and a
PNG chart to bench/out/. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guelaguetza.settings")

from bench._harness import (
    ROOT,
    PhaseResult,
    PrivateRedis,
    Req,
    app_server,
    delta,
    run_load,
    scrape,
    summary,
)

WRITE_SHARE = 0.02


class Zipf:
    """Pick items with probability ~ 1/rank^s (the hot few dominate, as at the festival)."""

    def __init__(self, items: list, s: float = 1.1) -> None:
        self.items = items
        weights = [1 / (i + 1) ** s for i in range(len(items))]
        self.cum = list(itertools.accumulate(weights))

    def pick(self, rng: random.Random):
        return rng.choices(self.items, cum_weights=self.cum, k=1)[0]


def load_fixture(signed_in_users: int, sampled_users: int = 5000) -> dict:
    """Ids to request and access tokens for signed-in clients, read from the database."""
    import django

    django.setup()
    from accounts.models import User
    from accounts.tokens import access_token_issue
    from events.models import Event
    from experiences.models import Experience, ExperienceTimeSlot

    users = list(
        User.objects.order_by("-stats__xp", "id").values_list("id", flat=True)[:sampled_users]
    )
    if not users:
        sys.exit("No users: run `manage.py seed_demo` first.")
    signed = list(User.objects.filter(id__in=users[:signed_in_users]))
    events = list(Event.objects.order_by("start_date", "id").values_list("id", flat=True)[:2000])
    exps = list(
        Experience.objects.filter(is_active=True)
        .order_by("-created_at", "id")
        .values_list("id", flat=True)[:1000]
    )
    today = dt.date.today()
    slot_days = {
        exp: str(day)
        for exp, day in ExperienceTimeSlot.objects.filter(
            experience_id__in=exps, date__gte=today, is_available=True
        ).values_list("experience_id", "date")
    }
    slots = list(
        ExperienceTimeSlot.objects.filter(
            experience_id__in=exps, date__gte=today, is_available=True
        ).values_list("id", "experience_id")[:5000]
    )
    months = sorted({(d.year, d.month) for d in Event.objects.values_list("start_date", flat=True)})
    return {
        "cancellable": _bookings_to_cancel(signed, slots),
        "checkin_tokens": _checkin_tokens(),
        "users": users,
        "tokens": [access_token_issue(u).token for u in signed],
        "signed_ids": [u.pk for u in signed],
        "events": events,
        "experiences": exps,
        "slot_days": slot_days,
        "slots": slots,
        "months": months or [(today.year, today.month)],
    }


def _checkin_tokens(count: int = 3000) -> list[str]:
    """Tokens of users who have not checked in today, drawn from the whole user base, so
    the mix's check-ins are real ones (+10 XP, a new leaderboard) in every run of the
    day, as at the festival, not no-ops of users who already checked in."""
    from accounts.models import User
    from accounts.tokens import access_token_issue
    from gamification.services import festival_today

    today = festival_today()
    fresh = User.objects.exclude(stats__last_visit_date=today).order_by("?")[:count]
    return [access_token_issue(u).token for u in fresh]


def _bookings_to_cancel(users: list, slots: list, per_user: int = 3) -> list[tuple[str, str]]:
    """(booking id, owner's token) pairs the mix cancels: every open booking of the
    signed-in users, topped up through the real booking service, so the clients stay
    stateless and a run after another still has bookings to cancel."""
    from accounts.tokens import access_token_issue
    from experiences.models import Booking, BookingStatus
    from experiences.services.bookings import booking_create
    from guelaguetza.errors import DomainError

    rng = random.Random()
    tokens = {}
    for user in users:
        tokens[user.pk] = access_token_issue(user).token
        for slot_id, exp_id in rng.sample(slots, min(per_user, len(slots))):
            try:
                booking_create(user=user, experience_id=exp_id, time_slot_id=slot_id)
            except DomainError:
                continue  # full, or already booked by this user in an earlier run
    open_bookings = Booking.objects.filter(
        user_id__in=tokens,
        status__in=[BookingStatus.PENDING, BookingStatus.CONFIRMED],
    ).values_list("id", "user_id")
    return [(booking_id, tokens[user_id]) for booking_id, user_id in open_bookings]


def make_mix(fx: dict, write_share: float = WRITE_SHARE):
    users, events, exps = Zipf(fx["users"]), Zipf(fx["events"]), Zipf(fx["experiences"])
    pages = Zipf(list(range(1, 51)))
    slots = fx["slots"]
    tokens, signed_ids = fx["tokens"], fx["signed_ids"]
    months = fx["months"]
    cats = ["TOUR", "TALLER", "DEGUSTACION", "CLASE", "VISITA"]

    def month_bounds(rng: random.Random) -> str:
        y, m = rng.choice(months)
        start = dt.datetime(y, m, 1, tzinfo=dt.UTC)
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(milliseconds=1)
        fmt = "%Y-%m-%dT%H:%M:%S.000Z"
        return f"startDate={start.strftime(fmt)}&endDate={end.strftime(fmt)}"

    def read(rng: random.Random) -> Req:
        # ``shows``: the cached values each read is answered from (its keys, as
        # family|identity), for the TTL-only model in :func:`ttl_floor`.
        i = rng.randrange(len(tokens)) if tokens and rng.random() < 0.5 else None
        token, me = (tokens[i], signed_ids[i]) if i is not None else (None, None)
        mine = (f"user_auth|{me}", f"user_rsvp_ids|{me}") if me else ()
        r = rng.random()
        if r < 0.20:
            page = pages.pick(rng)
            return Req(
                "leaderboard", "GET", f"/api/gamification/leaderboard?page={page}&limit=20",
                shows=(f"leaderboard_page|{page}",),
            )  # fmt: skip
        if r < 0.30 and token:
            shows = (f"user_auth|{me}", f"user_stats|{me}", f"user_rank|{me}")
            return Req("me_stats", "GET", "/api/gamification/me/stats", token, shows=shows)
        if r < 0.35 and token:
            shows = (f"user_auth|{me}", f"user_badges|{me}")
            return Req("me_badges", "GET", "/api/gamification/me/badges", token, shows=shows)
        if r < 0.40:
            user = users.pick(rng)
            return Req(
                "user_stats", "GET", f"/api/gamification/users/{user}/stats",
                shows=(f"user_stats|{user}", f"user_rank|{user}"),
            )  # fmt: skip
        if r < 0.55:
            bounds = month_bounds(rng)
            return Req(
                "events_list", "GET", f"/api/events?page=1&limit=50&{bounds}", token,
                shows=(f"events_list|{bounds}", *mine),
            )  # fmt: skip
        if r < 0.68:
            event = events.pick(rng)
            return Req(
                "event_detail", "GET", f"/api/events/{event}", token,
                shows=(f"event_detail|{event}", *mine),
            )  # fmt: skip
        if r < 0.78:
            q = f"page={min(pages.pick(rng), 5)}&limit=10"
            if rng.random() < 0.3:
                q += f"&category={rng.choice(cats)}"
            return Req(
                "experiences_list", "GET", f"/api/bookings/experiences?{q}",
                shows=(f"experiences_list|{q}",),
            )  # fmt: skip
        exp = exps.pick(rng)
        if r < 0.90 or exp not in fx["slot_days"]:
            return Req(
                "experience_detail", "GET", f"/api/bookings/experiences/{exp}",
                shows=(f"experience_detail|{exp}",),
            )  # fmt: skip
        day = fx["slot_days"][exp]
        return Req(
            "experience_slots", "GET", f"/api/bookings/experiences/{exp}/slots?startDate={day}",
            shows=(f"experience_slots|{exp}|{day}",),
        )  # fmt: skip

    def write(rng: random.Random) -> Req:
        token = rng.choice(tokens)
        r = rng.random()
        if r < 0.1:
            # A profile edit of a signed-in user (its name shows on the board, the
            # experiences it hosts and its reviews).
            body = json.dumps({"nombre": f"Visitante {rng.randrange(10**6)}"}).encode()
            return Req("w_profile", "PUT", "/api/auth/me", token, body)
        if r < 0.35:
            # A random not-yet-checked-in user (a repeat, rare, is a 4xx no-op).
            checkin_token = rng.choice(fx["checkin_tokens"]) if fx["checkin_tokens"] else token
            return Req("w_checkin", "POST", "/api/gamification/me/check-in", checkin_token)
        if r < 0.55:
            return Req("w_rsvp", "POST", f"/api/events/{events.pick(rng)}/rsvp", token)
        if r < 0.75:
            return Req("w_unrsvp", "DELETE", f"/api/events/{events.pick(rng)}/rsvp", token)
        if r < 0.88 and fx["cancellable"]:
            booking_id, owner = rng.choice(fx["cancellable"])
            return Req(
                "w_cancel", "POST", f"/api/bookings/bookings/{booking_id}/cancel", owner, b"{}"
            )
        slot_id, exp_id = rng.choice(slots)
        body = json.dumps({"experienceId": exp_id, "timeSlotId": slot_id, "guestCount": 1})
        return Req("w_booking", "POST", "/api/bookings/bookings", token, body.encode())

    def mix(rng: random.Random) -> Req:
        return write(rng) if tokens and rng.random() < write_share else read(rng)

    return mix


def leaderboard_only(rng: random.Random) -> Req:
    return Req("leaderboard", "GET", "/api/gamification/leaderboard?page=1&limit=20")


def floor(rng: random.Random) -> Req:
    return Req("floor", "GET", "/api/bench/floor")


def measure(
    port: int, phases: dict, args, *, rounds: int = 1, history: list | None = None
) -> dict[str, dict]:
    """Warm each phase up, then measure them in ``rounds`` alternating windows that add
    up to ``--seconds`` each, so machine noise (this box is shared) hits them alike:
    a ratio of two phases measured this way is worth quoting.

    ``history`` (one list per server) collects what every read showed, warm-ups
    included, so :func:`ttl_floor` sees each value's reads since the server started."""
    history = [] if history is None else history
    for make in phases.values():
        warm = run_load(
            port, make, seconds=args.warmup, procs=args.procs, threads=args.threads, seed=7
        )
        history.extend(warm.shown)
    totals = {label: (PhaseResult(), {}, []) for label in phases}
    for r in range(rounds):
        for label, make in phases.items():
            before = scrape(port)
            start = time.monotonic()
            result = run_load(
                port, make, seconds=args.seconds / rounds, procs=args.procs,
                threads=args.threads, seed=1 + r,
            )  # fmt: skip
            end = time.monotonic()
            after = scrape(port)
            history.extend(result.shown)
            merged, deltas, windows = totals[label]
            merged.merge(result)
            merged.elapsed += result.elapsed
            windows.append((start, end))
            for name in after:
                deltas[name] = deltas.get(name, 0.0) + delta(after, before, name)
    ttls = ttls_of(args)
    return {
        label: _report(label, result, deltas, ttl_floor(history, windows, ttls))
        for label, (result, deltas, windows) in totals.items()
    }


def ttls_of(args) -> dict[str, int]:
    """The servers' TTLs: the settings' defaults with the run's --env overrides."""
    from django.conf import settings

    env = dict(args.env)
    return {
        name: int(env.get(f"CACHE_TTL_{name.upper()}", ttl))
        for name, ttl in settings.CACHE_TTLS.items()
    }


def ttl_floor(history: list, windows: list, ttls: dict[str, int]) -> dict[str, list[int]]:
    """Loads per key family that the TTLs alone force on this very request sequence,
    counted inside ``windows``, as ``[cold, hot]``: a value is loaded at its first read
    and again at the first read after its TTL ran out, as by an ideal cache with no
    writes, no invalidation and no jitter. *Cold*: no read in the TTL before (any cache
    must load it then: a miss). *Hot*: read within the TTL before, its value expired
    under it; refresh-ahead exists to make these refreshes (recomputed once per TTL,
    no less), never misses. So the measured misses minus the cold loads are what
    writes, invalidation and stampedes add."""
    last_load: dict[str, float] = {}
    last_read: dict[str, float] = {}
    loads: dict[str, list[int]] = {}
    for t, shows in sorted(history, key=lambda entry: entry[0]):
        inside = any(start <= t < end for start, end in windows)
        for key in shows:
            family = key.split("|", 1)[0]
            ttl = ttls[family]
            if t - last_load.get(key, -1e18) >= ttl:
                last_load[key] = t
                if inside:
                    hot = t - last_read.get(key, -1e18) < ttl
                    loads.setdefault(family, [0, 0])[hot] += 1
            last_read[key] = t
    return loads


def _report(
    label: str, result: PhaseResult, deltas: dict[str, float], floor: dict[str, list[int]]
) -> dict:
    out = summary(result)
    hits = deltas.get("cache_hits_total", 0.0)
    misses = deltas.get("cache_misses_total", 0.0)
    queries = deltas.get("django_db_execute_total", 0.0)
    out["hit_rate_pct"] = round(100 * hits / (hits + misses), 2) if hits + misses else None
    out["db_queries_per_request"] = round(queries / max(1, out["requests"]), 4)
    out["hit_rate_by_service_pct"] = {}
    for service in ("accounts", "gamification", "events", "experiences"):
        h = deltas.get(f"cache_hits_total|{service}", 0.0)
        m = deltas.get(f"cache_misses_total|{service}", 0.0)
        if h + m:
            out["hit_rate_by_service_pct"][service] = round(100 * h / (h + m), 1)
    # Per key family: hit rate and loads (misses + refresh-ahead recomputes) per second,
    # beside the TTL-only floor of the same request sequence: where the statements left
    # come from (cold per-user keys, writes).
    seconds = max(result.elapsed, 1e-9)
    reads = max(1, sum(n for name, n in result.by_name.items() if not name.startswith("w_")))
    loads = sum(
        v
        for n, v in deltas.items()
        if n.startswith(("cache_misses_total|f:", "cache_refreshes_total|f:"))
    )
    out["loads_per_read"] = round(loads / reads, 4)
    cold = sum(c for c, _ in floor.values())
    out["ttl_floor_loads_per_read"] = round(sum(map(sum, floor.values())) / reads, 4)
    out["ttl_floor_cold_loads_per_read"] = round(cold / reads, 4)
    out["by_family"] = {}
    for name in sorted(n.split("|f:", 1)[1] for n in deltas if n.startswith("cache_hits_total|f:")):
        h = deltas.get(f"cache_hits_total|f:{name}", 0.0)
        m = deltas.get(f"cache_misses_total|f:{name}", 0.0)
        r = deltas.get(f"cache_refreshes_total|f:{name}", 0.0)
        if h + m:
            out["by_family"][name] = {
                "hit_pct": round(100 * h / (h + m), 2),
                "misses_per_s": round(m / seconds, 2),
                "refreshes_per_s": round(r / seconds, 2),
                "ttl_floor_cold_per_s": round(floor.get(name, [0, 0])[0] / seconds, 2),
                "ttl_floor_hot_per_s": round(floor.get(name, [0, 0])[1] / seconds, 2),
            }
    out["cache_errors"] = deltas.get("cache_errors_total", 0.0)
    print(
        f"{label:<22} {out['throughput_rps']:>8.1f} req/s  p50 {out['p50_ms']:>7.2f}  "
        f"p95 {out['p95_ms']:>7.2f}  p99 {out['p99_ms']:>7.2f} ms  "
        f"(reads p99 {out['reads_p99_ms']:>7.2f})  "
        f"hit {out['hit_rate_pct']}%  q/req {out['db_queries_per_request']}  "
        f"5xx {out['status_5xx']}",
        flush=True,
    )
    if len(out["hit_rate_by_service_pct"]) > 1:
        print(f"{'':<22} hit rate by service: {out['hit_rate_by_service_pct']}", flush=True)
        print(
            f"{'':<22} loads (misses + refreshes) per read {out['loads_per_read']}; "
            f"TTL-only floor of the same reads {out['ttl_floor_loads_per_read']} "
            f"(cold {out['ttl_floor_cold_loads_per_read']})",
            flush=True,
        )
        for name, f in sorted(out["by_family"].items(), key=lambda kv: -kv[1]["misses_per_s"]):
            print(
                f"{'':<22}   {name:<20} hit {f['hit_pct']:>6.2f}%  "
                f"misses {f['misses_per_s']:>6.2f}/s  refreshes {f['refreshes_per_s']:>5.2f}/s"
                f"  | TTL-only floor: cold {f['ttl_floor_cold_per_s']:>6.2f}/s"
                f"  hot {f['ttl_floor_hot_per_s']:>5.2f}/s",
                flush=True,
            )
    return out


def chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(results)
    pcts = ["p50_ms", "p95_ms", "p99_ms"]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / len(pcts)
    for i, p in enumerate(pcts):
        ax.bar(
            [x + i * width for x in range(len(labels))],
            [results[label][p] for label in labels],
            width,
            label=p.replace("_ms", ""),
        )
    ax.set_xticks([x + width for x in range(len(labels))], labels, rotation=15)
    ax.set_ylabel("latency (ms)")
    ax.set_yscale("log")
    ax.set_title("Guelaguetza Connect: latency percentiles, cached vs uncached")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument(
        "--warmup",
        type=float,
        default=60,
        help="seconds of load before each cached mix is measured (steady state: the tail "
        "keys' TTLs are 60-600 s); the other phases warm up for at most 5 s",
    )
    ap.add_argument(
        "--steady",
        type=float,
        default=75,
        help="seconds of the reads-only window counted for statements per read: longer "
        "than the shortest TTL (60 s), so expiries are in it",
    )
    ap.add_argument("--procs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2, help="server workers")
    ap.add_argument("--signed-in", type=int, default=200, help="distinct signed-in users")
    ap.add_argument(
        "--users",
        type=int,
        default=5000,
        help="users whose public stats are read (Zipf over the top of the board): the "
        "cold tail of per-user keys, the largest key space of the mix",
    )
    ap.add_argument("--out", default=str(ROOT / "bench" / "out"))
    ap.add_argument(
        "--env",
        type=lambda kv: tuple(kv.split("=", 1)),
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for both servers, e.g. CACHE_TTL_USER_STATS=300 (repeatable)",
    )
    args = ap.parse_args()

    fx = load_fixture(args.signed_in, args.users)
    mix = make_mix(fx)
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"data: {len(fx['users'])} users sampled, {len(fx['events'])} events, "
        f"{len(fx['experiences'])} experiences; clients {args.procs}x{args.threads}, "
        f"granian workers {args.workers}, {args.seconds:.0f}s per phase after {args.warmup:.0f}s"
    )
    results: dict[str, dict] = {}
    # A private, empty Redis: no value cached by an earlier run (or anyone else) skews
    # the hit rate, and ttl_floor sees every read each value has had.
    redis_server = PrivateRedis()
    redis_server.start()
    bench_env = {
        "BENCH_ENDPOINTS_ENABLED": "true",
        "REDIS_URL": redis_server.url,
        **dict(args.env),
    }
    try:
        _run(args, fx, mix, bench_env, results)
    finally:
        redis_server.stop()
    _write(args, results)


def _run(args, fx: dict, mix, bench_env: dict, results: dict) -> None:
    short = argparse.Namespace(**{**vars(args), "warmup": min(args.warmup, 5.0)})
    with app_server({**bench_env, "CACHE_ENABLED": "true"}, workers=args.workers) as port:
        history: list = []  # what every read of this server showed, for ttl_floor
        results.update(
            measure(
                port,
                {"floor": floor, "leaderboard cached": leaderboard_only},
                short,
                rounds=4,
            )
        )
        results.update(measure(port, {"mix cached": mix}, args, history=history))
        # The same reads without the writes: what the cache does at steady state, over a
        # window longer than the shortest TTL (every statement counted, health checks too).
        steady = argparse.Namespace(**{**vars(args), "seconds": args.steady, "warmup": 5.0})
        results.update(
            measure(port, {"reads cached": make_mix(fx, write_share=0.0)}, steady, history=history)
        )
    with app_server({**bench_env, "CACHE_ENABLED": "false"}, workers=args.workers) as port:
        results.update(measure(port, {"leaderboard uncached": leaderboard_only}, short))
        results.update(measure(port, {"mix uncached": mix}, short))
        results.update(measure(port, {"reads uncached": make_mix(fx, write_share=0.0)}, short))


def _write(args, results: dict) -> None:
    def ratio(a: str, b: str, digits: int = 2) -> float:
        return round(results[a]["throughput_rps"] / results[b]["throughput_rps"], digits)

    reads = results["reads cached"]
    ratios_extra = {
        "reads_cached_statements_per_read": round(reads["db_queries_per_request"], 4),
    }
    ratios = {
        **ratios_extra,
        "leaderboard_cached_vs_floor": ratio("leaderboard cached", "floor", 3),
        "reads_cached_vs_uncached": ratio("reads cached", "reads uncached"),
        "mix_cached_vs_uncached": ratio("mix cached", "mix uncached"),
        "floor_vs_reads_uncached": ratio("floor", "reads uncached"),
        "leaderboard_cached_vs_uncached": ratio("leaderboard cached", "leaderboard uncached"),
    }
    print("ratios:", json.dumps(ratios))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    payload = {
        "command": " ".join(sys.argv),
        "args": vars(args),
        "results": results,
        "ratios": ratios,
    }
    (out / f"load-{stamp}.json").write_text(json.dumps(payload, indent=2))
    (out / "load-latest.json").write_text(json.dumps(payload, indent=2))
    try:
        chart(results, out / "load-latest.png")
        print(f"wrote {out / f'load-{stamp}.json'} and {out / 'load-latest.png'}")
    except ImportError:
        print(
            f"wrote {out / f'load-{stamp}.json'} (no chart: `make bench-deps` installs matplotlib)"
        )


if __name__ == "__main__":
    main()
