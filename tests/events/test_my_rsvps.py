import datetime as dt

import pytest

from guelaguetza.cache import cache, keys
from tests.factories import EventFactory, EventRSVPFactory

MY_RSVPS = "/api/events/my-rsvps"


@pytest.mark.django_db
def test_my_rsvps_lists_my_events_by_start_date_with_reminder_flags(auth_client, user):
    late, early, not_mine = EventFactory(), EventFactory(), EventFactory()
    late.start_date += dt.timedelta(days=3)
    late.save()
    EventRSVPFactory(user=user, event=late)
    EventRSVPFactory(user=user, event=early)
    EventRSVPFactory(event=not_mine)
    auth_client.post(
        f"/api/events/{late.id}/reminder", {"remindAt": "2026-07-01T00:00:00Z"}, format="json"
    )

    response = auth_client.get(MY_RSVPS)

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["total"] == 2
    assert [e["id"] for e in data["events"]] == [early.id, late.id]
    assert [e["hasRSVP"] for e in data["events"]] == [True, True]
    assert [e["hasReminder"] for e in data["events"]] == [False, True]
    assert data["events"][0]["rsvpCount"] == 1
    assert "createdAt" not in data["events"][0]


@pytest.mark.django_db
def test_my_rsvps_requires_auth(api_client):
    response = api_client.get(MY_RSVPS)

    assert response.status_code == 401
    assert response.json()["error"] == "No autorizado"


@pytest.mark.django_db
def test_banned_user_gets_403(auth_client, user):
    from django.utils import timezone

    user.banned_at = timezone.now()
    user.save()

    assert auth_client.get(MY_RSVPS).status_code == 403


@pytest.mark.django_db
def test_my_rsvps_miss_then_hit(auth_client, user, django_assert_num_queries):
    EventRSVPFactory(user=user)
    key = keys.user_rsvps(user_id=user.id)
    assert cache.get(key) is None

    with django_assert_num_queries(3):  # event ids (recorded), reminders, events
        auth_client.get(MY_RSVPS)
    assert cache.get(key)["rsvpIds"]
    with django_assert_num_queries(0):
        assert auth_client.get(MY_RSVPS).json()["data"]["total"] == 1
    assert 0 < cache.ttl(key) <= 132  # 2 min + jitter


@pytest.mark.django_db(transaction=True)
def test_my_rsvps_is_fresh_after_rsvp_create_and_delete(auth_client):
    event = EventFactory()
    assert auth_client.get(MY_RSVPS).json()["data"]["total"] == 0

    auth_client.post(f"/api/events/{event.id}/rsvp")
    assert [e["id"] for e in auth_client.get(MY_RSVPS).json()["data"]["events"]] == [event.id]

    auth_client.delete(f"/api/events/{event.id}/rsvp")
    assert auth_client.get(MY_RSVPS).json()["data"] == {"events": [], "total": 0}


@pytest.mark.django_db(transaction=True)
def test_my_rsvps_and_has_reminder_fresh_after_reminder_create_and_delete(auth_client):
    event = EventFactory()
    auth_client.post(f"/api/events/{event.id}/rsvp")
    assert auth_client.get(MY_RSVPS).json()["data"]["events"][0]["hasReminder"] is False
    assert auth_client.get(f"/api/events/{event.id}").json()["data"]["hasReminder"] is False

    auth_client.post(
        f"/api/events/{event.id}/reminder", {"remindAt": "2026-07-01T00:00:00Z"}, format="json"
    )
    assert auth_client.get(MY_RSVPS).json()["data"]["events"][0]["hasReminder"] is True
    assert auth_client.get(f"/api/events/{event.id}").json()["data"]["hasReminder"] is True
    assert auth_client.get("/api/events").json()["data"]["events"][0]["hasReminder"] is True

    auth_client.delete(f"/api/events/{event.id}/reminder")
    assert auth_client.get(MY_RSVPS).json()["data"]["events"][0]["hasReminder"] is False
    assert auth_client.get(f"/api/events/{event.id}").json()["data"]["hasReminder"] is False
