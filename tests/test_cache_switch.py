"""CACHE_ENABLED=false (issue 7): every selector reads straight from PostgreSQL, so the
load benchmark compares cached and uncached runs of the same code."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import EventFactory, ExperienceFactory, UserStatsFactory

pytestmark = pytest.mark.django_db

READS = [
    "/api/gamification/leaderboard?page=1&limit=20",
    "/api/events?page=1&limit=20",
    "/api/bookings/experiences?page=1&limit=10",
]


@pytest.fixture
def data():
    UserStatsFactory(xp=120)
    event = EventFactory()
    experience = ExperienceFactory()
    return [
        *READS,
        f"/api/gamification/users/{UserStatsFactory(xp=5).user_id}/stats",
        f"/api/events/{event.id}",
        f"/api/bookings/experiences/{experience.id}",
    ]


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content)
    return len(ctx)


def test_with_the_cache_on_a_repeated_read_runs_no_query(api_client, data):
    for url in data:
        assert _queries(api_client, url) > 0
        assert _queries(api_client, url) == 0, url


def test_with_the_cache_off_every_read_goes_to_postgresql(api_client, data, settings, redis_client):
    settings.CACHE_ENABLED = False
    for url in data:
        assert _queries(api_client, url) > 0
        assert _queries(api_client, url) > 0, url
    assert not [k for k in redis_client.scan_iter("guelaguetza:*") if b":gen:" not in k]
