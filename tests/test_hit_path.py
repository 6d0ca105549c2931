"""The hit path (guelaguetza.api.cached): cached GETs answered from the stored bytes
before URL resolution, with a strong ETag and 304, signed-in reads verified locally."""

import orjson
import pytest
from rest_framework.test import APIClient

from accounts.tokens import access_token_issue
from events import services as event_services
from gamification import services as gam_services
from guelaguetza.cache import cache, keys
from tests.factories import EventFactory, UserFactory, UserStatsFactory
from tests.helpers import assert_error

BOARD = "/api/gamification/leaderboard?page=1&limit=5"


def bearer(user) -> APIClient:
    """A client that signs in as a real front end does: a Bearer header."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_issue(user).token}")
    return client


@pytest.mark.django_db
def test_a_hit_is_the_views_bytes_and_etag_with_no_query(api_client, django_assert_num_queries):
    UserStatsFactory(xp=10)
    miss = api_client.get(BOARD)
    assert miss.status_code == 200 and miss["ETag"].startswith('"')
    with django_assert_num_queries(0):
        hit = api_client.get(BOARD)
    assert hit.content == miss.content and hit["ETag"] == miss["ETag"]
    assert hit["Content-Type"] == "application/json"
    assert orjson.loads(hit.content)["data"]["entries"][0]["xp"] == 10


@pytest.mark.django_db
def test_if_none_match_answers_304_without_body_or_database(api_client, django_assert_num_queries):
    UserStatsFactory(xp=10)
    etag = api_client.get(BOARD)["ETag"]
    with django_assert_num_queries(0):
        response = api_client.get(BOARD, HTTP_IF_NONE_MATCH=f'W/"x", {etag}')
    assert response.status_code == 304 and response.content == b""
    assert response["ETag"] == etag
    assert api_client.get(BOARD, HTTP_IF_NONE_MATCH='"other"').status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_write_that_changes_the_value_changes_its_etag(api_client):
    stats = UserStatsFactory(xp=10)
    etag = api_client.get(BOARD)["ETag"]
    gam_services.xp_add(user=stats.user, amount=5, reason="test")
    response = api_client.get(BOARD, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and response["ETag"] != etag
    assert orjson.loads(response.content)["data"]["entries"][0]["xp"] == 15


@pytest.mark.django_db
def test_signed_in_stats_hit_reads_token_user_from_the_same_round_trip(
    django_assert_num_queries,
):
    stats = UserStatsFactory(xp=40)
    client = bearer(stats.user)
    miss = client.get("/api/gamification/me/stats")
    calls = cache.network_calls
    with django_assert_num_queries(0):
        hit = client.get("/api/gamification/me/stats")
    assert cache.network_calls - calls == 1  # value, rank, auth record: one round trip
    assert orjson.loads(hit.content) == miss.json()
    assert miss.json()["data"]["rank"] == 1 and "Authorization" in hit["Vary"]


@pytest.mark.django_db
def test_banned_or_unknown_token_user_falls_through_to_the_views_answer():
    stats = UserStatsFactory(xp=40)
    client = bearer(stats.user)
    client.get("/api/gamification/me/stats")
    client.get("/api/gamification/me/stats")  # cached: auth record and values
    from django.utils import timezone

    stats.user.banned_at = timezone.now()
    stats.user.save()
    assert_error(client.get("/api/gamification/me/stats"), 403)
    assert APIClient().get("/api/gamification/me/stats").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_events_hit_carries_each_callers_own_flags(django_assert_num_queries):
    going, other = EventFactory(), EventFactory()
    user = UserFactory()
    event_services.event_rsvp_create(user=user, event_id=going.id)
    client = bearer(user)
    client.get("/api/events")
    client.get(f"/api/events/{going.id}")
    APIClient().get("/api/events")
    with django_assert_num_queries(0):
        mine = orjson.loads(client.get("/api/events").content)["data"]["events"]
        anon = orjson.loads(APIClient().get("/api/events").content)["data"]["events"]
    flags = {e["id"]: (e["hasRSVP"], e["hasReminder"]) for e in mine}
    assert flags == {going.id: (True, False), other.id: (False, False)}
    assert all("hasRSVP" not in e for e in anon)
    with django_assert_num_queries(0):
        detail = client.get(f"/api/events/{going.id}")
    assert orjson.loads(detail.content)["data"]["hasRSVP"] is True


@pytest.mark.django_db
def test_unusual_queries_fall_through_to_the_views_400(api_client):
    UserStatsFactory(xp=10)
    api_client.get(BOARD)
    assert_error(api_client.get("/api/gamification/leaderboard?page=1&limit=abc"), 400)
    assert_error(api_client.get("/api/gamification/leaderboard?limit=101"), 400)


@pytest.mark.django_db
def test_unknown_event_cached_as_absent_is_still_a_404(api_client):
    for _ in range(2):
        assert_error(api_client.get("/api/events/nope"), 404)
    assert cache.get(keys.event_detail(event_id="nope"), default="miss") is None


@pytest.mark.django_db
def test_rate_limits_apply_to_hits(api_client, settings):
    UserStatsFactory(xp=10)
    api_client.get(BOARD)
    settings.RATE_LIMITS_ENABLED = True
    settings.RATE_LIMIT_GLOBAL = "2/min"
    statuses = [api_client.get(BOARD).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


@pytest.mark.django_db
def test_hits_are_counted_under_their_route_template(api_client):
    from guelaguetza.observability import metrics

    UserStatsFactory(xp=10)
    api_client.get(BOARD)
    counter = metrics.http_requests_total.labels("GET", "/api/gamification/leaderboard", "200")
    before = counter._value.get()
    api_client.get(BOARD)
    assert counter._value.get() == before + 1


@pytest.mark.django_db
def test_own_badges_hit_with_a_token(django_assert_num_queries):
    from gamification.catalogue import ensure_catalogue
    from gamification.models import Badge

    ensure_catalogue(Badge)
    client = bearer(UserFactory())
    miss = client.get("/api/gamification/me/badges")
    with django_assert_num_queries(0):
        hit = client.get("/api/gamification/badges")  # the seed-path alias
    assert hit.content == miss.content and len(orjson.loads(hit.content)["data"]) == 21


@pytest.mark.django_db
def test_a_token_the_hit_path_cannot_vouch_for_goes_to_the_view(api_client):
    EventFactory()
    api_client.get("/api/events")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    events = orjson.loads(client.get("/api/events").content)["data"]["events"]
    assert all("hasRSVP" not in e for e in events)  # any bad token is anonymous
