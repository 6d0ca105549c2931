import pytest

from events.models import EventRSVP
from tests.factories import EventFactory, EventRSVPFactory, UserFactory


@pytest.mark.django_db
def test_rsvp_post_without_body_or_content_type_confirms(auth_client, user, event):
    response = auth_client.generic("POST", f"/api/events/{event.id}/rsvp", data="")

    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "Asistencia confirmada"}
    assert EventRSVP.objects.filter(user=user, event=event).count() == 1


@pytest.mark.django_db
def test_rsvp_twice_is_400_only_for_the_duplicate(auth_client, user, event):
    auth_client.post(f"/api/events/{event.id}/rsvp")

    response = auth_client.post(f"/api/events/{event.id}/rsvp")

    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "error": "Ya confirmaste tu asistencia",
        "message": "Ya confirmaste tu asistencia",
    }
    assert EventRSVP.objects.filter(user=user).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("event_id", ["missing", "y" * 40])
def test_rsvp_unknown_event_is_404(auth_client, event_id):
    response = auth_client.post(f"/api/events/{event_id}/rsvp")

    assert response.status_code == 404
    assert response.json()["error"] == "Evento no encontrado"


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "delete"])
def test_rsvp_requires_auth(api_client, event, method):
    response = getattr(api_client, method)(f"/api/events/{event.id}/rsvp")

    assert response.status_code == 401
    assert response.json()["error"] == "No autorizado"


@pytest.mark.django_db
def test_delete_rsvp_is_idempotent_and_accepts_empty_json_body(auth_client, user, event):
    EventRSVPFactory(user=user, event=event)
    url = f"/api/events/{event.id}/rsvp"

    for _ in range(2):
        response = auth_client.generic("DELETE", url, data="", content_type="application/json")
        assert response.status_code == 200
        assert response.json() == {"success": True, "message": "Asistencia cancelada"}
    assert not EventRSVP.objects.filter(user=user).exists()
    unknown = auth_client.delete("/api/events/does-not-exist/rsvp")
    assert unknown.status_code == 200


@pytest.mark.django_db
def test_delete_rsvp_keeps_other_users_rsvp(auth_client, other_user, event):
    EventRSVPFactory(user=other_user, event=event)

    auth_client.delete(f"/api/events/{event.id}/rsvp")

    assert EventRSVP.objects.filter(user=other_user, event=event).exists()


@pytest.mark.django_db(transaction=True)
def test_rsvp_updates_detail_and_list_rsvp_count_immediately(auth_client, api_client):
    event = EventFactory()
    detail_url, list_url = f"/api/events/{event.id}", "/api/events?limit=50"
    # Warm both shared payloads and the caller's rsvps entry.
    assert api_client.get(detail_url).json()["data"]["rsvpCount"] == 0
    assert api_client.get(list_url).json()["data"]["events"][0]["rsvpCount"] == 0
    auth_client.get(list_url)

    auth_client.post(f"{detail_url}/rsvp")

    assert api_client.get(detail_url).json()["data"]["rsvpCount"] == 1
    assert api_client.get(list_url).json()["data"]["events"][0]["rsvpCount"] == 1
    mine = auth_client.get(detail_url).json()["data"]
    assert mine["hasRSVP"] is True and mine["rsvpCount"] == 1
    assert auth_client.get(list_url).json()["data"]["events"][0]["hasRSVP"] is True

    auth_client.delete(f"{detail_url}/rsvp")

    assert api_client.get(detail_url).json()["data"]["rsvpCount"] == 0
    assert api_client.get(list_url).json()["data"]["events"][0]["rsvpCount"] == 0
    assert auth_client.get(detail_url).json()["data"]["hasRSVP"] is False


@pytest.mark.django_db(transaction=True)
def test_first_rsvp_awards_first_rsvp_badge_once(badge_catalogue, auth_client, user):
    from gamification.models import UserBadge, UserStats

    first, second = EventFactory(), EventFactory()

    auth_client.post(f"/api/events/{first.id}/rsvp")
    auth_client.post(f"/api/events/{second.id}/rsvp")
    auth_client.post(f"/api/events/{first.id}/rsvp")  # duplicate: no evaluation effect

    codes = list(UserBadge.objects.filter(user=user).values_list("badge__code", flat=True))
    assert codes.count("FIRST_RSVP") == 1
    assert "RSVPS_10" not in codes
    assert UserStats.objects.get(user=user).xp > 0


@pytest.mark.django_db(transaction=True)
def test_tenth_rsvp_awards_rsvps_10(badge_catalogue, auth_client, user):
    from gamification.models import UserBadge

    events = [EventFactory() for _ in range(10)]
    for event in events[:9]:
        EventRSVPFactory(user=user, event=event)

    auth_client.post(f"/api/events/{events[9].id}/rsvp")

    codes = set(UserBadge.objects.filter(user=user).values_list("badge__code", flat=True))
    assert {"FIRST_RSVP", "RSVPS_10"} <= codes


@pytest.mark.django_db(transaction=True)
def test_badge_failure_never_loses_the_rsvp(auth_client, user, monkeypatch):
    import gamification.services

    def broken(*, user):
        raise RuntimeError("badge store down")

    monkeypatch.setattr(gamification.services, "badges_evaluate", broken)
    event = EventFactory()

    response = auth_client.post(f"/api/events/{event.id}/rsvp")

    assert response.status_code == 200
    assert EventRSVP.objects.filter(user=user, event=event).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_rsvps_create_one_row_and_one_400():
    import threading

    from django.db import connection
    from rest_framework.test import APIClient

    user, event = UserFactory(), EventFactory()
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def attempt():
        client = APIClient()
        client.force_authenticate(user=user)
        try:
            barrier.wait()
            statuses.append(client.post(f"/api/events/{event.id}/rsvp").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(statuses) == [200, 400, 400, 400]
    assert EventRSVP.objects.filter(user=user, event=event).count() == 1
