import threading

import pytest
from django.db import connection

from accounts.models import User
from gamification import services
from gamification.models import Badge, UserBadge, UserStats
from tests.factories import BadgeFactory, EventRSVPFactory, UserFactory, UserStatsFactory


def run_threads(n: int, target) -> list[Exception]:
    """Start ``n`` threads that meet at a Barrier, then call ``target()``; their errors."""
    barrier = threading.Barrier(n)
    errors: list[Exception] = []

    def worker():
        try:
            barrier.wait(timeout=30)
            target()
        except Exception as exc:  # reported to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


@pytest.mark.django_db
def test_xp_add_creates_row_and_recomputes_level(user):
    stats = services.xp_add(user=user, amount=150, reason="test")
    assert (stats.xp, stats.level) == (150, 2)
    assert UserStats.objects.get(user=user).xp == 150


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "amount", "level"), [(0, 99, 1), (0, 100, 2), (9_000, 1_500, 15)]
)
def test_xp_add_stores_the_level_of_the_new_total(user, start, amount, level):
    UserStatsFactory(user=user, xp=start)
    assert services.xp_add(user=user, amount=amount, reason="test").level == level


@pytest.mark.django_db
def test_xp_add_refuses_negative_amounts(user):
    with pytest.raises(ValueError):
        services.xp_add(user=user, amount=-5, reason="test")


@pytest.mark.django_db
def test_badge_award_gives_its_xp_only_the_first_time(user):
    badge = BadgeFactory(xp_reward=75)
    assert services.badge_award(user=user, badge=badge)[1] is True
    assert services.badge_award(user=user, badge=badge)[1] is False
    assert UserStats.objects.get(user=user).xp == 75


@pytest.mark.django_db
def test_badges_evaluate_awards_streak_7_once(user, catalogue):
    UserStatsFactory(user=user, longest_streak=7, current_streak=7)
    assert [b.code for b in services.badges_evaluate(user=user)] == ["STREAK_7"]
    assert services.badges_evaluate(user=user) == []
    assert UserStats.objects.get(user=user).xp == 100


@pytest.mark.django_db
def test_badges_evaluate_counts_rsvps(user, catalogue):
    EventRSVPFactory(user=user)
    assert [b.code for b in services.badges_evaluate(user=user)] == ["FIRST_RSVP"]
    assert UserStats.objects.get(user=user).xp == 25


@pytest.mark.django_db
def test_badges_evaluate_never_awards_special_or_story_badges_automatically(user, catalogue):
    UserStatsFactory(user=user, longest_streak=500)
    codes = {b.code for b in services.badges_evaluate(user=user)}
    assert codes == {"STREAK_7", "STREAK_30", "STREAK_100"}


@pytest.mark.django_db
def test_unknown_social_code_falls_back_to_followers_rule(user, catalogue):
    BadgeFactory(code="FOLLOWERS_0", category="SOCIAL", threshold=0)
    assert [b.code for b in services.badges_evaluate(user=user)] == ["FOLLOWERS_0"]


@pytest.mark.django_db(transaction=True)
def test_20_concurrent_xp_adds_lose_no_update():
    user_id = UserStatsFactory(xp=0).user_id
    errors = run_threads(
        20, lambda: services.xp_add(user=User.objects.get(pk=user_id), amount=5, reason="t")
    )
    assert errors == []
    stats = UserStats.objects.get(user_id=user_id)
    assert (stats.xp, stats.level) == (100, 2)


@pytest.mark.django_db(transaction=True)
def test_10_concurrent_awards_of_one_badge_create_one_row_and_add_xp_once():
    user_id = UserFactory().pk
    badge_id = BadgeFactory(xp_reward=100).pk
    created = []

    def award():
        _, made = services.badge_award(
            user=User.objects.get(pk=user_id), badge=Badge.objects.get(pk=badge_id)
        )
        created.append(made)

    assert run_threads(10, award) == []
    assert sorted(created) == [False] * 9 + [True]
    assert UserBadge.objects.filter(user_id=user_id).count() == 1
    assert UserStats.objects.get(user_id=user_id).xp == 100
