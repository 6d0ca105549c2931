import pytest

from guelaguetza.cache import cache, keys
from tests.factories import EventFactory, EventRSVPFactory

pytestmark = pytest.mark.django_db


def test_detail_anonymous_has_event_detail_keys_without_personal_ones(api_client, event):
    response = api_client.get(f"/api/events/{event.id}")

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    assert set(data) == {
        "id", "title", "description", "imageUrl", "location", "latitude", "longitude",
        "startDate", "endDate", "category", "isOfficial", "rsvpCount", "createdAt", "updatedAt",
    }  # fmt: skip
    assert data["rsvpCount"] == 0
    assert data["createdAt"].endswith("Z") and len(data["createdAt"]) == 24


def test_detail_signed_in_adds_has_rsvp_and_has_reminder(auth_client, user, event):
    EventRSVPFactory(event=event, user=user)

    data = auth_client.get(f"/api/events/{event.id}").json()["data"]

    assert data["hasRSVP"] is True
    assert data["hasReminder"] is False
    assert data["rsvpCount"] == 1


def test_another_users_rsvp_never_shows_as_mine(auth_client, other_client, event):
    assert other_client.post(f"/api/events/{event.id}/rsvp").status_code == 200

    detail = auth_client.get(f"/api/events/{event.id}").json()["data"]
    listed = auth_client.get("/api/events").json()["data"]["events"][0]
    mine = auth_client.get("/api/events/my-rsvps").json()["data"]

    assert detail["hasRSVP"] is False and detail["rsvpCount"] == 1
    assert listed["hasRSVP"] is False
    assert mine == {"events": [], "total": 0}


@pytest.mark.parametrize("event_id", ["nope", "x" * 40, "a.b", "ünï", "%00"])
def test_unknown_or_malformed_id_is_404_json(api_client, event_id):
    response = api_client.get(f"/api/events/{event_id}")

    assert response.status_code == 404
    assert response.json() == {
        "success": False,
        "error": "Evento no encontrado",
        "message": "Evento no encontrado",
    }


def test_detail_miss_then_hit(api_client, event, django_assert_num_queries):
    key = keys.event_detail(event_id=event.id)

    with django_assert_num_queries(1):
        api_client.get(f"/api/events/{event.id}")
    assert cache.get(key)["id"] == event.id
    with django_assert_num_queries(0):
        assert api_client.get(f"/api/events/{event.id}").json()["data"]["id"] == event.id


def test_signed_in_detail_read_at_steady_state_runs_no_sql(
    auth_client, event, django_assert_num_queries
):
    auth_client.get(f"/api/events/{event.id}")

    with django_assert_num_queries(0):
        data = auth_client.get(f"/api/events/{event.id}").json()["data"]
    assert data["hasRSVP"] is False


def test_id_with_dot_is_routed_to_detail(api_client):
    event = EventFactory(id="evt.2026.danza")

    assert api_client.get("/api/events/evt.2026.danza").json()["data"]["id"] == event.id
