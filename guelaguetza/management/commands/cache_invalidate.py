"""``manage.py cache_invalidate PATTERN``: invalidate now, from an operator's shell.

A namespace prefix of the tree (``leaderboard:*``, ``user:123:*``) or an exact key costs
one round trip (a generation bump). Any other glob (``user:*:stats``) is walked with
SCAN and its keys UNLINKed in batches under a tqdm progress bar (on stderr, when it is a
terminal; ``--no-progress`` turns it off): fine for an operator, never done on a
request. The choice is guelaguetza.cache_actions.target_of, shared with
the admin's cache page.
"""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

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
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar (it is off without a TTY)"
        )

    def handle(self, *args, pattern: str, batch: int, dry_run: bool, no_progress: bool, **options):
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

        # SCAN cannot tell in advance how many keys match: the bar counts them as they come.
        bar = tqdm(
            desc=f"scan {pattern!r}",
            unit="key",
            disable=True if no_progress else None,
        )
        seen = {"matched": 0, "unlinked": 0}

        def progress(matched: int, unlinked: int) -> None:
            bar.update(matched - seen["matched"])
            seen.update(matched=matched, unlinked=unlinked)

        try:
            total = unlink_glob(cache, pattern, batch=batch, dry_run=dry_run, progress=progress)
        finally:
            bar.close()
        verb = "would unlink" if dry_run else "unlinked"
        count = seen["matched"] if dry_run else seen["unlinked"]
        self.stdout.write(f"scan {pattern!r}: matched {seen['matched']}, {verb} {count}")
        self.stdout.write(f"done: {total} keys {'matched' if dry_run else 'unlinked'}")
