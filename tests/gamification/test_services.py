import pytest

from gamification import services
from gamification.models import UserStats


@pytest.mark.django_db
def test_xp_add_creates_row_and_recomputes_level(user):
    stats = services.xp_add(user=user, amount=150, reason="test")
    assert (stats.xp, stats.level) == (150, 2)
    assert UserStats.objects.get(user=user).xp == 150


@pytest.mark.django_db
def test_badges_evaluate_awards_streak_7_once(user, catalogue):
    UserStats.objects.create(user=user, longest_streak=7, current_streak=7)
    assert [b.code for b in services.badges_evaluate(user=user)] == ["STREAK_7"]
    assert services.badges_evaluate(user=user) == []
    assert UserStats.objects.get(user=user).xp == 100
