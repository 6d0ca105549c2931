"""``manage.py cache_invalidate PATTERN``: invalidate now, from an operator's shell.

A namespace prefix of the tree (``leaderboard:*``, ``user:123:*``) or an exact key costs
one round trip (a generation bump). Any other glob (``user:*:stats``) is walked with
SCAN and its keys UNLINKed in batches, with a progress line: fine for an operator,
never done on a request.
"""

from django.core.management.base import BaseCommand, CommandError

from guelaguetza.cache import cache
from guelaguetza.cache.ops import unlink_glob
from guelaguetza.cache.registry import namespace_of, resolve


class Command(BaseCommand):
    help = "Invalidate cache keys by pattern (relative to the prefix, e.g. 'leaderboard:*')."

    def add_arguments(self, parser):
        parser.add_argument("pattern")
        parser.add_argument("--batch", type=int, default=500, help="keys per UNLINK")
        parser.add_argument(
            "--dry-run", action="store_true", help="count what a glob matches, delete nothing"
        )

    def handle(self, *args, pattern: str, batch: int, dry_run: bool, **options):
        pattern = pattern.strip()
        if not pattern:
            raise CommandError("empty pattern")
        if pattern.startswith(cache.prefix):
            pattern = pattern[len(cache.prefix) :]
        ns = namespace_of(pattern)
        if ns is not None:
            if not dry_run:
                cache.apply([("ns", ns)], strict=True)
            self.stdout.write(f"namespace {ns!r}: generation bumped (O(1), no scan)")
            return
        if not any(c in pattern for c in "*?["):
            try:
                key = resolve(pattern)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            if not dry_run:
                cache.apply([("key", str(key))], strict=True)
            self.stdout.write(f"key {key!r}: deleted, generation bumped")
            return
        if batch < 1:
            raise CommandError("--batch must be >= 1")

        def progress(matched: int, unlinked: int) -> None:
            verb = "would unlink" if dry_run else "unlinked"
            count = matched if dry_run else unlinked
            self.stdout.write(f"scan {pattern!r}: matched {matched}, {verb} {count}")

        total = unlink_glob(cache, pattern, batch=batch, dry_run=dry_run, progress=progress)
        self.stdout.write(f"done: {total} keys {'matched' if dry_run else 'unlinked'}")
