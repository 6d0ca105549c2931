"""``manage.py cache_warm``: fill what the front end's first screens read.

The leaderboard's first page, the events list of this month as EventsView asks for it,
the experiences' first page, the badge catalogue, and the details of the ``--top`` most
popular events (RSVPs) and experiences (bookings): the entries of
guelaguetza.warmers.WARMERS, each through the normal cache-aside path, so it is safe
while the app serves. Run it after a deploy or a Redis restart (README.md#operations).

What each read did is told by this process's own cache counters (the numbers /metrics
sums): a miss means it loaded and stored the key, a hit that the key was already there,
an error that Redis did not answer (the read was served from PostgreSQL, nothing stored).
"""

from __future__ import annotations

from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from guelaguetza.cache.metrics import cache_errors_total, cache_hits_total, cache_misses_total
from guelaguetza.errors import DomainError
from guelaguetza.warmers import WARMERS


def _counted() -> tuple[float, float, float]:
    """(hits, misses, errors) of this process, over every service."""

    def total(counter) -> float:
        return sum(
            s.value for m in counter.collect() for s in m.samples if s.name.endswith("_total")
        )

    return total(cache_hits_total), total(cache_misses_total), total(cache_errors_total)


class Command(BaseCommand):
    help = (
        "Warm the cache with the front end's first screens (leaderboard, events of this "
        "month, experiences, badge catalogue, the most popular events' and experiences' "
        "details), through the normal cache-aside path."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--families",
            default=",".join(WARMERS),
            help=f"comma-separated families to warm (default: all of {', '.join(WARMERS)})",
        )
        parser.add_argument(
            "--top",
            type=int,
            default=20,
            help="how many of the most popular events and experiences get their detail warmed",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar (it is off without a TTY)"
        )

    def handle(self, *args, families: str, top: int, no_progress: bool, **options):
        chosen = [f.strip() for f in families.split(",") if f.strip()]
        unknown = sorted(set(chosen) - WARMERS.keys())
        if unknown or not chosen:
            raise CommandError(
                f"unknown families {unknown or chosen}; choose among: {', '.join(WARMERS)}"
            )
        if top < 0:
            raise CommandError("--top must be >= 0")
        reads = [(family, read) for family in chosen for read in WARMERS[family](top)]

        outcome: dict[str, Counter] = {family: Counter() for family in chosen}
        bar = tqdm(reads, desc="cache_warm", unit="key", disable=True if no_progress else None)
        for family, read in bar:
            before = _counted()
            try:
                read()
            except DomainError as exc:  # e.g. an experience deleted since it was picked
                outcome[family]["gone"] += 1
                bar.write(f"{family}: skipped ({exc})")
                continue
            hits, misses, errors = (a - b for a, b in zip(_counted(), before, strict=True))
            if errors:
                outcome[family]["failed"] += 1
            elif misses:
                outcome[family]["written"] += 1
            elif hits:
                outcome[family]["cached"] += 1
            else:  # the cache is switched off (CACHE_ENABLED): nothing was read or stored
                outcome[family]["uncached"] += 1
        bar.close()
        self._summary(outcome)
        failed = sum(c["failed"] for c in outcome.values())
        if failed:
            raise CommandError(f"{failed} reads could not reach Redis: nothing stored for them")

    def _summary(self, outcome: dict[str, Counter]) -> None:
        cols = ("written", "cached", "failed", "gone")
        self.stdout.write(f"{'family':<20}" + "".join(f"{c:>9}" for c in cols))
        for family, counts in outcome.items():
            self.stdout.write(f"{family:<20}" + "".join(f"{counts[c]:>9}" for c in cols))
        written = sum(c["written"] for c in outcome.values())
        cached = sum(c["cached"] for c in outcome.values())
        self.stdout.write(f"keys written: {written} ({cached} already cached, left as they were)")
        if any(c["uncached"] for c in outcome.values()):
            self.stdout.write("the cache is switched off (CACHE_ENABLED): nothing was stored")
