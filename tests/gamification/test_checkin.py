import datetime as dt
import threading

import pytest
from django.db import connection

from accounts.models import User
from gamification import services
from gamification.models import UserStats
from tests.factories import UserFactory, UserStatsFactory

# 2026-07-20 noon in Mexico City (UTC-6 all year since 2022).
NOON = dt.datetime(2026, 7, 20, 18, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 7, 20)


def checkin(user, now=NOON):
    return services.checkin_perform(user=user, now=now)


def result(r):
    return r["streak"], r["isNewDay"], r["xpAwarded"]


@pytest.mark.django_db
def test_checkin_without_stats_row_creates_streak_1_and_10_xp(user):
    assert result(checkin(user)) == (1, True, 10)
    stats = UserStats.objects.get(user=user)
    assert (stats.current_streak, stats.longest_streak, stats.xp) == (1, 1, 10)
    assert stats.last_visit_date == TODAY


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("last_visit", "current", "longest", "expected", "expected_longest"),
    [
        pytest.param(None, 0, 5, (1, True, 10), 5, id="never-visited-keeps-longest"),
        pytest.param(None, 0, 0, (1, True, 10), 1, id="never-visited-longest-becomes-1"),
        pytest.param(TODAY, 3, 4, (3, False, 0), 4, id="same-day-no-write"),
        pytest.param(TODAY - dt.timedelta(days=1), 3, 3, (4, True, 10), 4, id="previous-day"),
        pytest.param(TODAY - dt.timedelta(days=1), 3, 5, (4, True, 10), 5, id="previous-day-lt"),
        pytest.param(TODAY - dt.timedelta(days=2), 5, 6, (1, True, 10), 6, id="gap-2-days"),
        pytest.param(TODAY - dt.timedelta(days=40), 5, 6, (1, True, 10), 6, id="gap-40-days"),
        pytest.param(TODAY + dt.timedelta(days=1), 5, 6, (1, True, 10), 6, id="clock-anomaly"),
    ],
)
def test_checkin_streak_table(user, last_visit, current, longest, expected, expected_longest):
    UserStatsFactory(
        user=user, xp=20, current_streak=current, longest_streak=longest, last_visit_date=last_visit
    )
    assert result(checkin(user)) == expected
    stats = UserStats.objects.get(user=user)
    assert stats.current_streak == expected[0]
    assert stats.longest_streak == expected_longest
    assert stats.xp == 20 + expected[2]
    assert stats.last_visit_date == TODAY


@pytest.mark.django_db
def test_checkin_same_day_writes_nothing(user):
    UserStatsFactory(user=user, xp=20, current_streak=2, longest_streak=2, last_visit_date=TODAY)
    before = UserStats.objects.get(user=user).updated_at
    checkin(user)
    assert UserStats.objects.get(user=user).updated_at == before


@pytest.mark.django_db
def test_checkin_days_turn_at_mexico_city_midnight_not_utc(user):
    late = dt.datetime(2026, 7, 20, 5, 59, tzinfo=dt.UTC)  # 23:59 on the 19th in CDMX
    assert services.festival_today(late) == dt.date(2026, 7, 19)
    assert result(checkin(user, late)) == (1, True, 10)
    midnight = dt.datetime(2026, 7, 20, 6, 0, tzinfo=dt.UTC)  # 00:00 on the 20th in CDMX
    assert result(checkin(user, midnight)) == (2, True, 10)
    assert result(checkin(user, NOON)) == (2, False, 0)


@pytest.mark.django_db
def test_checkin_utc_date_change_within_one_mexico_city_day_is_the_same_day(user):
    evening = dt.datetime(2026, 7, 19, 23, 0, tzinfo=dt.UTC)  # 17:00 on the 19th in CDMX
    night = dt.datetime(2026, 7, 20, 5, 0, tzinfo=dt.UTC)  # 23:00 on the 19th in CDMX
    assert result(checkin(user, evening)) == (1, True, 10)
    assert result(checkin(user, night)) == (1, False, 0)


@pytest.mark.django_db
def test_checkin_has_no_dst_shift_on_the_old_october_change(user):
    # Before 2022 Mexico City was UTC-5 until the last Sunday of October; now it is
    # UTC-6 all year, so 05:30Z on 24 Oct is still the 23rd there.
    UserStatsFactory(
        user=user, current_streak=1, longest_streak=1, last_visit_date=dt.date(2026, 10, 23)
    )
    at = dt.datetime(2026, 10, 24, 5, 30, tzinfo=dt.UTC)
    assert services.festival_today(at) == dt.date(2026, 10, 23)
    assert result(checkin(user, at)) == (1, False, 0)
    assert result(checkin(user, at + dt.timedelta(minutes=30))) == (2, True, 10)


@pytest.mark.django_db
def test_streak_7_badge_on_7th_consecutive_day_once_with_its_xp(user, catalogue):
    for day in range(6):
        assert checkin(user, NOON + dt.timedelta(days=day))["newBadges"] == []
    seventh = checkin(user, NOON + dt.timedelta(days=6))
    assert seventh["streak"] == 7
    assert [b.code for b in seventh["newBadges"]] == ["STREAK_7"]
    assert UserStats.objects.get(user=user).xp == 7 * 10 + 100
    eighth = checkin(user, NOON + dt.timedelta(days=7))
    assert eighth["newBadges"] == []
    assert UserStats.objects.get(user=user).xp == 8 * 10 + 100
    assert user.user_badges.filter(badge__code="STREAK_7").count() == 1


@pytest.mark.django_db(transaction=True)
def test_20_concurrent_checkins_of_one_user_award_10_xp_exactly_once():
    user_id = UserFactory().pk
    barrier = threading.Barrier(20)
    results, errors = [], []

    def worker():
        try:
            user = User.objects.get(pk=user_id)
            barrier.wait(timeout=30)
            results.append(services.checkin_perform(user=user, now=NOON))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(results) == 20
    assert sum(r["xpAwarded"] for r in results) == 10
    assert sum(r["isNewDay"] for r in results) == 1
    stats = UserStats.objects.get(user_id=user_id)
    assert (stats.xp, stats.current_streak) == (10, 1)
