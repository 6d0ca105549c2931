import datetime as dt

import pytest

from events.models import EventCategory
from guelaguetza.cache import cache, keys
from tests.factories import EventFactory, EventRSVPFactory, UserFactory
from tests.helpers import JULY

pytestmark = pytest.mark.django_db


def ids(response) -> list[str]:
    return [e["id"] for e in response.json()["data"]["events"]]


def at(day: int, hour: int = 18) -> dt.datetime:
    return JULY + dt.timedelta(days=day - 1, hours=hour)


def test_list_is_ordered_by_start_date_ascending(api_client):
    late = EventFactory(start_date=at(25))
    early = EventFactory(start_date=at(3))
    middle = EventFactory(start_date=at(10))

    response = api_client.get("/api/events")

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert ids(response) == [early.id, middle.id, late.id]
    assert body["data"]["total"] == 3
    assert body["data"]["hasMore"] is False


def test_list_item_has_exact_event_item_keys_for_anonymous(api_client):
    event = EventFactory(start_date=at(20), image_url=None, end_date=at(20, 21))
    EventRSVPFactory(event=event)

    item = api_client.get("/api/events").json()["data"]["events"][0]

    assert item == {
        "id": event.id,
        "title": event.title,
        "description": event.description,
        "imageUrl": None,
        "location": event.location,
        "latitude": 17.0654,
        "longitude": -96.7365,
        "startDate": "2026-07-20T18:00:00.000Z",
        "endDate": "2026-07-20T21:00:00.000Z",
        "category": "DANZA",
        "isOfficial": False,
        "rsvpCount": 1,
    }


def test_list_filters_by_category(api_client):
    danza = EventFactory(category=EventCategory.DANZA)
    EventFactory(category=EventCategory.MUSICA)

    response = api_client.get("/api/events?category=DANZA")

    assert ids(response) == [danza.id]
    assert response.json()["data"]["total"] == 1


def test_list_date_bounds_are_inclusive_on_start_date(api_client):
    before = EventFactory(start_date=at(1, 10))
    first = EventFactory(start_date=at(5, 0))
    last = EventFactory(start_date=at(6, 0))
    EventFactory(start_date=at(6, 1))
    del before

    # The UI sends JS ISO strings with milliseconds.
    response = api_client.get(
        "/api/events",
        {"startDate": "2026-07-05T00:00:00.000Z", "endDate": "2026-07-06T00:00:00.000Z"},
    )

    assert ids(response) == [first.id, last.id]


@pytest.mark.parametrize(
    "start",
    [
        "2026-07-05",
        "2026-07-05T00:00:00Z",
        "2026-07-04T19:00:00-05:00",
        "2026-07-05T00:00",
        "Sun, 05 Jul 2026 00:00:00 GMT",  # Date.prototype.toUTCString()
    ],
)
def test_list_accepts_lenient_date_forms(api_client, start):
    EventFactory(start_date=at(4, 23))
    inside = EventFactory(start_date=at(5, 0))

    response = api_client.get("/api/events", {"startDate": start})

    assert response.status_code == 200
    assert ids(response) == [inside.id]


def test_list_accepts_bare_year_month(api_client):
    EventFactory(start_date=at(1, 0) - dt.timedelta(seconds=1))
    inside = EventFactory(start_date=at(1, 0))

    response = api_client.get("/api/events", {"startDate": "2026-07"})

    assert ids(response) == [inside.id]


def test_list_offset_with_unencoded_plus_sign_is_understood(api_client):
    inside = EventFactory(start_date=at(5, 0))
    # "+02:00" unencoded in a query string arrives as " 02:00".
    response = api_client.get("/api/events?startDate=2026-07-05T02:00:00+02:00")

    assert response.status_code == 200
    assert ids(response) == [inside.id]


def test_has_more_and_total_at_page_edges(api_client):
    events = [EventFactory() for _ in range(5)]

    first = api_client.get("/api/events?page=1&limit=2").json()["data"]
    last_full = api_client.get("/api/events?page=2&limit=2").json()["data"]
    last = api_client.get("/api/events?page=3&limit=2").json()["data"]
    beyond = api_client.get("/api/events?page=4&limit=2").json()["data"]
    exact = api_client.get("/api/events?page=1&limit=5").json()["data"]

    assert [e["id"] for e in first["events"]] == [events[0].id, events[1].id]
    assert first["hasMore"] is True and first["total"] == 5
    assert [e["id"] for e in last_full["events"]] == [events[2].id, events[3].id]
    assert last_full["hasMore"] is True
    assert [e["id"] for e in last["events"]] == [events[4].id]
    assert last["hasMore"] is False and last["total"] == 5
    assert beyond == {"events": [], "hasMore": False, "total": 5}
    assert exact["hasMore"] is False and len(exact["events"]) == 5


def test_default_page_and_limit(api_client):
    for _ in range(21):
        EventFactory()

    data = api_client.get("/api/events").json()["data"]

    assert len(data["events"]) == 20
    assert data["hasMore"] is True


@pytest.mark.parametrize(
    "query",
    [
        "limit=1.5",
        "limit=2.0",
        "limit=0",
        "limit=51",
        "limit=-1",
        "limit=abc",
        "page=0",
        "page=1.5",
        "page=1e3",
        "page=99999999999999999999",
        "category=BAILE",
        "category=danza",
        "startDate=not-a-date",
        "endDate=2026-13-45",
        "startDate=99999-01-01",
        "startDate=2026-13",
        "endDate=1719792000000",
    ],
)
def test_bad_query_params_are_400_json(api_client, query):
    response = api_client.get(f"/api/events?{query}")

    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False
    assert body["error"] and body["error"] == body["message"]
    assert body["details"][0]["field"] == query.split("=")[0]


def test_empty_params_mean_not_given(api_client):
    event = EventFactory()

    response = api_client.get("/api/events?category=&startDate=&page=&limit=")

    assert response.status_code == 200
    assert ids(response) == [event.id]


def test_anonymous_payload_has_no_personal_keys(api_client, user):
    event = EventFactory()
    EventRSVPFactory(event=event, user=user)

    item = api_client.get("/api/events").json()["data"]["events"][0]

    assert "hasRSVP" not in item and "hasReminder" not in item


def test_signed_in_payload_marks_only_my_rsvps_and_reminders(auth_client, user, api_client):
    mine, theirs, none = EventFactory(), EventFactory(), EventFactory()
    EventRSVPFactory(event=mine, user=user)
    EventRSVPFactory(event=theirs, user=UserFactory())
    auth_client.post(
        f"/api/events/{none.id}/reminder", {"remindAt": "2026-06-30T00:00:00.000Z"}, format="json"
    )

    events = {e["id"]: e for e in auth_client.get("/api/events").json()["data"]["events"]}

    assert (events[mine.id]["hasRSVP"], events[mine.id]["hasReminder"]) == (True, False)
    assert (events[theirs.id]["hasRSVP"], events[theirs.id]["hasReminder"]) == (False, False)
    assert (events[none.id]["hasRSVP"], events[none.id]["hasReminder"]) == (False, True)
    assert events[theirs.id]["rsvpCount"] == 1
    # The personal overlay never leaks into the shared cached page.
    anonymous = api_client.get("/api/events").json()["data"]["events"]
    assert all("hasRSVP" not in e for e in anonymous)


def test_list_miss_then_hit_serves_cached_page(api_client, django_assert_num_queries):
    event = EventFactory()
    key = keys.events_list(category=None, start=None, end=None, page=1, limit=20)
    assert cache.get(key) is None

    with django_assert_num_queries(3):  # count, the page's ids, their rows
        api_client.get("/api/events")
    assert cache.get(key)["events"][0]["id"] == event.id
    with django_assert_num_queries(0):
        response = api_client.get("/api/events")
    assert ids(response) == [event.id]


def test_list_cache_key_uses_parsed_dates(api_client):
    EventFactory()
    api_client.get("/api/events?startDate=2026-07-05&category=DANZA&limit=50")

    key = keys.events_list(category="DANZA", start=at(5, 0), end=None, page=1, limit=50)
    assert str(key) == "events:list:cat:DANZA:start:2026-07-05T000000.000Z:end:none:page:1:limit:50"
    assert cache.get(key) is not None


def test_signed_in_list_read_at_steady_state_runs_no_sql(
    auth_client, user, django_assert_num_queries
):
    event = EventFactory()
    EventRSVPFactory(event=event, user=user)
    auth_client.get("/api/events?limit=50")  # warms the page and user:{uid}:rsvps

    with django_assert_num_queries(0):
        response = auth_client.get("/api/events?limit=50")

    item = response.json()["data"]["events"][0]
    assert item["hasRSVP"] is True and item["rsvpCount"] == 1


def test_real_bearer_token_read_at_steady_state_runs_no_sql(
    api_client, user, django_assert_num_queries
):
    from accounts.tokens import access_token_issue

    event = EventFactory()
    EventRSVPFactory(event=event, user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_issue(user).token}")
    api_client.get("/api/events")

    # The token's user comes from user:{id}:auth and the events read from the cache.
    with django_assert_num_queries(0):
        item = api_client.get("/api/events").json()["data"]["events"][0]
    assert item["hasRSVP"] is True


def test_demo_or_bad_token_is_anonymous_on_the_list(api_client):
    EventFactory()
    api_client.credentials(HTTP_AUTHORIZATION="Bearer demo_token_123")

    response = api_client.get("/api/events")

    assert response.status_code == 200
    assert "hasRSVP" not in response.json()["data"]["events"][0]
