"""manage.py cache_warm: after it, the front end's first screens are cache hits.

Asserted the way a visitor meets them: the same GETs the front end sends, through the
HTTP API, on a Redis that was empty before the warm (the autouse fixture flushes it),
counting database queries and the cache_hits_total / cache_misses_total counters.
"""

import calendar
import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from guelaguetza.cache import cache
from tests.factories import (
    BookingFactory,
    EventFactory,
    EventRSVPFactory,
    ExperienceFactory,
    TimeSlotFactory,
    UserFactory,
    UserStatsFactory,
)
from tests.helpers import Metric, client_for

pytestmark = pytest.mark.django_db

LEADERBOARD = "/api/gamification/leaderboard?page=1&limit=20"
EXPERIENCES = "/api/bookings/experiences?page=1&limit=10"


def events_url(today: dt.date) -> str:
    """EventsView's request for this month, written out as the browser sends it."""
    last = calendar.monthrange(today.year, today.month)[1]
    month = f"{today.year}-{today.month:02d}"
    return (
        f"/api/events?limit=50&startDate={month}-01T00:00:00.000Z"
        f"&endDate={month}-{last:02d}T23:59:59.999Z"
    )


def warm(*args: str) -> str:
    out = StringIO()
    call_command("cache_warm", "--no-progress", *args, stdout=out)
    return out.getvalue()


def counted(name: str) -> float:
    return Metric(name).value()


@pytest.fixture
def festival():
    """A small festival: a board, this month's events with RSVPs, booked experiences."""
    for xp in (500, 300, 300, 100):
        UserStatsFactory(xp=xp)
    first_evening = timezone.now().replace(day=1, hour=18)  # within this month's bounds
    events = [EventFactory(start_date=first_evening + dt.timedelta(hours=i)) for i in range(4)]
    for event, rsvps in zip(events, (3, 1, 0, 2), strict=True):
        for _ in range(rsvps):
            EventRSVPFactory(event=event)
    experiences = [ExperienceFactory() for _ in range(4)]
    for experience, bookings in zip(experiences, (0, 2, 1, 3), strict=True):
        for _ in range(bookings):
            BookingFactory(time_slot=TimeSlotFactory(experience=experience))
    return {"events": events, "experiences": experiences}


def test_after_cache_warm_the_first_screens_through_the_api_run_no_query(
    festival, django_assert_num_queries
):
    warm("--top", "2")
    popular_events = [festival["events"][0], festival["events"][3]]  # 3 and 2 RSVPs
    popular_experiences = [festival["experiences"][3], festival["experiences"][1]]
    urls = [
        LEADERBOARD,
        events_url(timezone.now().date()),
        EXPERIENCES,
        *(f"/api/events/{e.id}" for e in popular_events),
        *(f"/api/bookings/experiences/{x.id}" for x in popular_experiences),
    ]
    hits, misses = counted("cache_hits_total"), counted("cache_misses_total")
    client = APIClient()
    with django_assert_num_queries(0):
        bodies = [client.get(url) for url in urls]
    assert [r.status_code for r in bodies] == [200] * len(urls)
    assert counted("cache_hits_total") - hits == len(urls)
    assert counted("cache_misses_total") == misses
    # and they are the real pages, not empty ones
    assert bodies[0].json()["data"]["total"] == 4
    assert len(bodies[1].json()["data"]["events"]) == 4


def test_after_cache_warm_the_badges_screen_reads_only_the_users_own_unlocks():
    warm("--families", "badges_all")
    client = client_for(UserFactory())
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/api/gamification/me/badges").status_code == 200
    # the user's unlocks are theirs alone; the catalogue came from the cache
    assert len(ctx.captured_queries) == 1
    assert '"gamification_userbadge"' in ctx.captured_queries[0]["sql"]


def test_cache_warm_details_are_those_of_the_most_rsvpd_events_and_booked_experiences(
    festival, django_assert_num_queries
):
    warm("--top", "1", "--families", "event_detail,experience_detail")
    client = APIClient()
    with django_assert_num_queries(0):
        client.get(f"/api/events/{festival['events'][0].id}")
        client.get(f"/api/bookings/experiences/{festival['experiences'][3].id}")
    with CaptureQueriesContext(connection) as ctx:
        client.get(f"/api/events/{festival['events'][3].id}")  # the runner-up: not warmed
    assert ctx.captured_queries


def test_cache_warm_families_option_warms_only_those(festival, django_assert_num_queries):
    out = warm("--families", "leaderboard_page")
    assert out.splitlines()[1].split() == ["leaderboard_page", "1", "0", "0", "0"]
    client = APIClient()
    with django_assert_num_queries(0):
        client.get(LEADERBOARD)
    with CaptureQueriesContext(connection) as ctx:
        client.get(EXPERIENCES)
    assert ctx.captured_queries


def test_cache_warm_summary_counts_keys_written_then_none_on_a_warm_cache(festival):
    first = warm("--top", "2")
    # leaderboard, events list, experiences list, catalogue, 2 + 2 details
    assert "keys written: 8 (0 already cached" in first
    second = warm("--top", "2")
    assert "keys written: 0 (8 already cached" in second


def test_cache_warm_stores_nothing_a_write_made_stale_while_it_loaded(
    festival, django_assert_num_queries
):
    """Warming while the app serves: an XP write that commits between the warmer's load
    and its store wins (the stale-set fence of the cache-aside path)."""

    def write_during_load(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if '"gamification_userstats"' in sql:
            cache.invalidate("leaderboard:*")  # what an XP change's cascade does
        return result

    with connection.execute_wrapper(write_during_load):
        warm("--families", "leaderboard_page")
    with CaptureQueriesContext(connection) as ctx:
        APIClient().get(LEADERBOARD)
    assert ctx.captured_queries  # a miss: the warmed value was already dead


def test_cache_warm_rejects_an_unknown_family():
    with pytest.raises(CommandError, match="choose among"):
        warm("--families", "leaderboard_page,nope")


def test_cache_warm_with_redis_down_fails_loudly():
    with (
        override_settings(REDIS_URL="redis://127.0.0.1:1/0"),
        pytest.raises(CommandError, match="could not reach Redis"),
    ):
        warm("--families", "leaderboard_page,badges_all")
