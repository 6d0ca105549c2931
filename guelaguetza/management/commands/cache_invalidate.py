"""``manage.py cache_invalidate PATTERN``: invalidate now, from an operator's shell.

A namespace prefix of the tree (``leaderboard:*``, ``user:123:*``) or an exact key costs
one round trip (a generation bump). Any other glob (``user:*:stats``) is walked with
SCAN and its keys UNLINKed in batches, with a progress line: fine for an operator,
never done on a request. The choice is guelaguetza.cache_actions.target_of, shared with
the admin's cache page.
"""

from django.core.management.base import BaseCommand, CommandError

from guelaguetza.cache import cache
from guelaguetza.cache.ops import unlink_glob
from guelaguetza.cache_actions import target_of


class Command(BaseCommand):
    help = "Invalidate cache keys by pattern (relative to the prefix, e.g. 'leaderboard:*')."

    def add_arguments(self, parser):
        parser.add_argument("pattern")
        parser.add_argument("--batch", type=int, default=500, help="keys per UNLINK")
        parser.add_argument(
            "--dry-run", action="store_true", help="count what a glob matches, delete nothing"
        )

    def handle(self, *args, pattern: str, batch: int, dry_run: bool, **options):
        try:
            target = target_of(pattern)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if target.kind == "namespace":
            if not dry_run:
                cache.apply([("ns", target.value)], strict=True)
            self.stdout.write(f"namespace {target.value!r}: generation bumped (O(1), no scan)")
            return
        if target.kind == "key":
            if not dry_run:
                cache.apply([("key", target.value)], strict=True)
            self.stdout.write(f"key {target.value!r}: deleted, generation bumped")
            return
        if batch < 1:
            raise CommandError("--batch must be >= 1")
        pattern = target.value

        def progress(matched: int, unlinked: int) -> None:
            verb = "would unlink" if dry_run else "unlinked"
            count = matched if dry_run else unlinked
            self.stdout.write(f"scan {pattern!r}: matched {matched}, {verb} {count}")

        total = unlink_glob(cache, pattern, batch=batch, dry_run=dry_run, progress=progress)
        self.stdout.write(f"done: {total} keys {'matched' if dry_run else 'unlinked'}")
