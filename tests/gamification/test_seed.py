import io

import pytest

from gamification import seed
from gamification.models import UserBadge, UserStats
from guelaguetza.cache import cache, keys
from tests.factories import UserFactory, UserStatsFactory


@pytest.mark.django_db
def test_seed_creates_stats_once_for_demo_and_random_users_and_clears_leaderboard(api_client):
    demo = UserFactory(email="demo@guelaguetza.mx")
    UserFactory.create_batch(7)
    kept = UserStatsFactory(xp=999)  # a user who already played keeps their row
    api_client.get("/api/gamification/leaderboard")
    assert cache.get(keys.leaderboard_page(page=1, limit=20))["total"] == 1

    out = io.StringIO()
    seed.run(options={}, stdout=out)
    assert UserStats.objects.count() == 9
    assert "8/8" in out.getvalue()
    assert UserStats.objects.get(pk=kept.pk).xp == 999
    # demo: 450 seeded + EARLY_ADOPTER (100) + STREAK_7 (longest 8: 100), through the services
    assert UserStats.objects.get(user=demo).xp == 650
    assert set(UserBadge.objects.filter(user=demo).values_list("badge__code", flat=True)) == {
        "EARLY_ADOPTER",
        "STREAK_7",
    }
    assert cache.get(keys.leaderboard_page(page=1, limit=20)) is None
    assert api_client.get("/api/gamification/leaderboard").json()["data"]["total"] == 9

    seed.run(options={}, stdout=io.StringIO())
    assert UserStats.objects.count() == 9
    assert UserStats.objects.get(user=demo).xp == 650
    assert UserBadge.objects.count() == 2


@pytest.mark.django_db
def test_seed_recreating_a_deleted_badge_refreshes_the_cached_catalogue():
    from gamification import selectors
    from gamification.models import Badge

    Badge.objects.filter(code="STREAK_100").delete()
    assert len(selectors.badges_all()) == 20  # now cached

    seed.run(options={}, stdout=io.StringIO())

    assert len(selectors.badges_all()) == 21
