"""seed_demo's gamification step: the badge catalogue, then stats for the demo users and
for every other user without a stats row (the random users of ``--users N``).

Idempotent: only users without a row get one, and badges are awarded through the
services (get-or-create). Bulk inserts in batches under a progress bar; bulk_create fires
no post_save, so the leaderboard pages are invalidated explicitly at the end.
"""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model
from tqdm import tqdm

from gamification.catalogue import ensure_catalogue
from gamification.levels import level_for
from gamification.models import Badge, UserStats
from gamification.services import badge_award, badges_evaluate, festival_today
from guelaguetza.cache import cache

BATCH = 5000
# email -> (xp, current_streak, longest_streak, days since last visit, special badges)
DEMO_STATS = {
    "demo@guelaguetza.mx": (450, 3, 8, 1, ("EARLY_ADOPTER",)),
    "artesano@guelaguetza.mx": (1250, 12, 12, 0, ("GUELAGUETZA_2024",)),
    "admin@guelaguetza.mx": (0, 0, 0, None, ()),
}


def add_arguments(parser) -> None:
    parser.add_argument(
        "--stats-seed", type=int, default=2024, help="random seed of the users' stats"
    )


def _random_stats(rng: random.Random, today: dt.date) -> dict:
    # Skewed like a real leaderboard (most players near 0, a long tail), in steps of 10
    # so ties are common.
    xp = min(12_000, int(rng.expovariate(1 / 400)) // 10 * 10)
    current = rng.randint(0, 10)
    longest = max(current, rng.randint(0, 30))
    return {
        "xp": xp,
        "level": level_for(xp),
        "current_streak": current,
        "longest_streak": longest,
        "last_visit_date": today - dt.timedelta(days=rng.randint(0, 3)) if current else None,
    }


def run(*, options: dict, stdout) -> None:
    if ensure_catalogue(Badge):
        # bulk_create fires no post_save: badges:all (and every user's list built on it).
        cache.cascade("badge_catalogue_changed")
    rng = random.Random(options.get("stats_seed", 2024))
    today = festival_today()
    User = get_user_model()
    missing = list(
        User.objects.filter(stats__isnull=True).order_by("pk").values_list("pk", "email")
    )
    stdout.write(f"gamification: stats for {len(missing)} users without them\n")
    demo_ids = []
    made = 0
    # disable=None: the bar shows on a terminal only (seed_demo --no-progress forces it off).
    bar = tqdm(
        total=len(missing),
        desc="gamification: stats rows",
        unit="row",
        disable=options.get("no_progress") or None,
    )
    for start in range(0, len(missing), BATCH):
        rows = []
        for pk, email in missing[start : start + BATCH]:
            if email in DEMO_STATS:
                xp, current, longest, ago, _ = DEMO_STATS[email]
                fields = {
                    "xp": xp,
                    "level": level_for(xp),
                    "current_streak": current,
                    "longest_streak": longest,
                    "last_visit_date": None if ago is None else today - dt.timedelta(days=ago),
                }
                demo_ids.append(pk)
            else:
                fields = _random_stats(rng, today)
            rows.append(UserStats(user_id=pk, **fields))
        # ignore_conflicts: a row created meanwhile (a check-in) is kept as it is.
        UserStats.objects.bulk_create(rows, ignore_conflicts=True)
        made += len(rows)
        bar.update(len(rows))
    bar.close()
    stdout.write(f"gamification: {made}/{len(missing)} stats rows\n")

    # Demo users' badges go through the award service (XP and caches follow).
    for user in User.objects.filter(email__in=DEMO_STATS):
        for code in DEMO_STATS[user.email][4]:
            badge_award(user=user, badge=Badge.objects.get(code=code))
        badges_evaluate(user=user)
        # bulk_create fired no post_save for this user's new row.
        cache.cascade("stats_created", user_id=user.pk)
    # bulk_create fires no post_save: every leaderboard page is stale now.
    cache.invalidate("leaderboard:*")
    stdout.write(f"gamification: done ({len(demo_ids)} demo users)\n")
