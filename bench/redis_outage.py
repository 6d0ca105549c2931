"""Redis outage drill: the app under load while its Redis dies, comes back, hangs, resumes.

    .venv/bin/python bench/redis_outage.py [--seconds 10] [--procs 2] [--threads 4]

Starts a private redis-server on a spare loopback port (never the shared one) and a
granian (scripts/start.sh) of the project using it, drives the festival read mix of
bench/load.py, and: kills Redis (SIGKILL), restarts it, hangs it (SIGSTOP), resumes it
(SIGCONT). Reports per phase: 5xx (must be 0), p50/p99, p99 added over the cached
baseline and over the same mix with the cache switched off (what a dead cache can at
best cost: the breaker turns the cache off), and how long the hit rate takes to recover
after Redis returns.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guelaguetza.settings")

from bench._harness import (
    ROOT,
    PhaseResult,
    PrivateRedis,
    app_server,
    delta,
    percentile,
    run_load,
    scrape,
    summary,
)
from bench.load import load_fixture, make_mix


def phase(port, mix, args, label, *, watch_recovery_from=None, seconds=None):
    """Run the mix for one phase; optionally poll /metrics for hit-rate recovery."""
    box = {}
    secs = seconds or args.seconds
    t = threading.Thread(
        target=lambda: box.update(
            r=run_load(port, mix, seconds=secs, procs=args.procs, threads=args.threads)
        )
    )
    before = scrape(port)
    t0 = time.monotonic()
    t.start()
    recovered_after = None
    if watch_recovery_from is not None:
        prev = before
        while t.is_alive():
            time.sleep(0.25)
            now = scrape(port)
            hits = delta(now, prev, "cache_hits_total")
            misses = delta(now, prev, "cache_misses_total")
            prev = now
            if hits + misses and 100 * hits / (hits + misses) >= 0.9 * watch_recovery_from:
                recovered_after = round(time.monotonic() - t0, 2)
                break
    t.join()
    after = scrape(port)
    out = summary(box["r"])
    hits = delta(after, before, "cache_hits_total")
    misses = delta(after, before, "cache_misses_total")
    out["hit_rate_pct"] = round(100 * hits / (hits + misses), 2) if hits + misses else None
    out["cache_errors"] = delta(after, before, "cache_errors_total")
    if watch_recovery_from is not None:
        out["hit_rate_recovered_after_s"] = recovered_after
    print(
        f"{label:<26} 5xx {out['status_5xx']:>3}  p50 {out['p50_ms']:>7.2f}  "
        f"p99 {out['p99_ms']:>7.2f}  reads p99 {out['reads_p99_ms']:>7.2f} ms  "
        f"hit {out['hit_rate_pct']}%  "
        f"cache errors {out['cache_errors']:.0f}"
        + (f"  recovered after {recovered_after}s" if watch_recovery_from is not None else ""),
        flush=True,
    )
    return out


def interleaved(phases: dict[str, int], mix, args, rounds: int = 8) -> dict[str, dict]:
    """Each ``label: port`` in turn for ``args.seconds / rounds * 2``, ``rounds`` times, so
    the phases compared share the same stretch of this (shared, noisy) machine's time.
    Each phase also gets ``window_reads_p99_ms``, the read p99 of each of its windows, so
    adjacent windows can be compared in pairs (a burst of noise hits one pair, not all)."""
    totals = {label: (PhaseResult(), {}) for label in phases}
    windows: dict[str, list[float]] = {label: [] for label in phases}
    for _ in range(rounds):
        for label, port in phases.items():
            before = scrape(port)
            r = run_load(
                port,
                mix,
                seconds=args.seconds / rounds * 2,
                procs=args.procs,
                threads=args.threads,
            )
            after = scrape(port)
            windows[label].append(round(percentile(r.read_latencies_ms, 99), 2))
            merged, deltas = totals[label]
            merged.merge(r)
            merged.elapsed += r.elapsed
            for name in ("cache_hits_total", "cache_misses_total", "cache_errors_total"):
                deltas[name] = deltas.get(name, 0.0) + delta(after, before, name)
    out = {}
    for label, (merged, deltas) in totals.items():
        o = out[label] = summary(merged)
        hits, misses = deltas["cache_hits_total"], deltas["cache_misses_total"]
        o["hit_rate_pct"] = round(100 * hits / (hits + misses), 2) if hits + misses else None
        o["cache_errors"] = deltas["cache_errors_total"]
        o["window_reads_p99_ms"] = windows[label]
        print(
            f"{label:<26} 5xx {o['status_5xx']:>3}  p50 {o['p50_ms']:>7.2f}  "
            f"p99 {o['p99_ms']:>7.2f}  reads p99 {o['reads_p99_ms']:>7.2f} ms  "
            f"hit {o['hit_rate_pct']}%  cache errors {o['cache_errors']:.0f}  (interleaved)",
            flush=True,
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out"))
    args = ap.parse_args()

    mix = make_mix(load_fixture(200))
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    results = {}
    redis_srv = PrivateRedis()
    # The cache-off server runs beside the drill's, idle but for the windows that
    # measure it next to a phase of the drill.
    with app_server({"CACHE_ENABLED": "false"}, workers=args.workers) as ref_port:
        run_load(ref_port, mix, seconds=3, procs=args.procs, threads=args.threads)
        results["uncached reference"] = phase(ref_port, mix, args, "uncached reference")
        redis_srv.start()
        try:
            env = {"CACHE_ENABLED": "true", "REDIS_URL": redis_srv.url}
            with app_server(env, workers=args.workers) as port:
                run_load(port, mix, seconds=5, procs=args.procs, threads=args.threads)
                base = results["baseline (cached)"] = phase(port, mix, args, "baseline (cached)")
                redis_srv.kill()
                results["redis killed"] = phase(port, mix, args, "redis killed")
                redis_srv.start()
                results["redis restarted"] = phase(
                    port, mix, args, "redis restarted", watch_recovery_from=base["hit_rate_pct"]
                )
                redis_srv.pause()
                results["redis hung: breaker opening"] = phase(
                    port, mix, args, "hung: breaker opening", seconds=2
                )
                pair = interleaved(
                    {"hung: breaker open": port, "uncached, same windows": ref_port}, mix, args
                )
                results["redis hung: breaker open"] = pair["hung: breaker open"]
                results["uncached reference, beside hung"] = pair["uncached, same windows"]
                redis_srv.resume()
                results["redis resumed"] = phase(
                    port, mix, args, "redis resumed", watch_recovery_from=base["hit_rate_pct"]
                )
        finally:
            redis_srv.stop()

    # "Added" latency is read p99 (writes are slow by nature and would be the p99 of
    # the mix) over two references: the same mix with the cache switched off (what an
    # open breaker turns the app into), and Redis dead (breaker open, same server).
    beside = results["uncached reference, beside hung"]
    uncached_p99 = beside["reads_p99_ms"]
    killed_p99 = results["redis killed"]["reads_p99_ms"]
    for r in results.values():
        r["reads_p99_added_vs_uncached_ms"] = round(r["reads_p99_ms"] - uncached_p99, 2)
        r["reads_p99_added_vs_killed_ms"] = round(r["reads_p99_ms"] - killed_p99, 2)
    total_5xx = sum(r["status_5xx"] for r in results.values())
    hung = results["redis hung: breaker open"]
    pairs = [
        round(h - u, 2)
        for h, u in zip(hung["window_reads_p99_ms"], beside["window_reads_p99_ms"], strict=True)
    ]
    hung["window_reads_p99_added_ms"] = pairs
    hung["window_reads_p99_added_median_ms"] = round(statistics.median(pairs), 2)
    print(f"total 5xx: {total_5xx}")
    print(
        "read p99 added with Redis hung, breaker open: "
        f"{hung['reads_p99_added_vs_uncached_ms']} ms over the cache-off server in the same "
        "windows, "
        f"{hung['reads_p99_added_vs_killed_ms']} ms over Redis dead (same server)"
    )
    print(
        f"  per pair of adjacent windows: {pairs} ms; "
        f"median {hung['window_reads_p99_added_median_ms']} ms"
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    payload = {"command": " ".join(sys.argv), "results": results, "total_5xx": total_5xx}
    (out / "redis-outage-latest.json").write_text(json.dumps(payload, indent=2))
    print(f"wrote {out / 'redis-outage-latest.json'}")


if __name__ == "__main__":
    main()
