import datetime as dt

import pytest

from events.models import EventReminder

pytestmark = pytest.mark.django_db


def url(event) -> str:
    return f"/api/events/{event.id}/reminder"


def test_reminder_before_start_is_created(auth_client, user, event):
    remind_at = event.start_date - dt.timedelta(hours=1)

    response = auth_client.post(url(event), {"remindAt": remind_at.isoformat()}, format="json")

    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "Recordatorio creado"}
    reminder = EventReminder.objects.get(user=user, event=event)
    assert reminder.remind_at == remind_at and reminder.sent is False


def test_reminder_is_an_upsert_that_resets_sent(auth_client, user, event):
    EventReminder.objects.create(
        user=user, event=event, remind_at=event.start_date - dt.timedelta(days=1), sent=True
    )
    later = event.start_date - dt.timedelta(minutes=5)

    response = auth_client.post(url(event), {"remindAt": "2026-07-21T17:55:00.000Z"}, format="json")

    assert response.status_code == 200
    reminder = EventReminder.objects.get(user=user, event=event)
    assert (reminder.remind_at, reminder.sent) == (later, False)


@pytest.mark.parametrize("delta", [dt.timedelta(0), dt.timedelta(minutes=1)])
def test_reminder_at_or_after_start_is_400(auth_client, event, delta):
    remind_at = (event.start_date + delta).isoformat()

    response = auth_client.post(url(event), {"remindAt": remind_at}, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == "El recordatorio debe ser antes del evento"
    assert not EventReminder.objects.exists()


@pytest.mark.parametrize(
    "body", [{}, {"remindAt": "mañana"}, {"remindAt": 12}, {"remindAt": None}, [1, 2]]
)
def test_reminder_invalid_body_is_400_json(auth_client, event, body):
    response = auth_client.post(url(event), body, format="json")

    assert response.status_code == 400
    assert response.json()["success"] is False
    assert not EventReminder.objects.exists()


def test_reminder_malformed_json_is_400(auth_client, event):
    response = auth_client.generic("POST", url(event), "{oops", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["success"] is False


def test_reminder_unknown_event_is_404(auth_client):
    response = auth_client.post(
        "/api/events/missing/reminder", {"remindAt": "2026-07-01T00:00:00.000Z"}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["error"] == "Evento no encontrado"


def test_reminder_requires_auth(api_client, event):
    response = api_client.post(url(event), {"remindAt": "2026-07-01"}, format="json")

    assert response.status_code == 401


def test_delete_reminder_is_idempotent_with_empty_json_body(auth_client, user, event):
    EventReminder.objects.create(user=user, event=event, remind_at=event.start_date)

    for _ in range(2):
        response = auth_client.generic("DELETE", url(event), "", content_type="application/json")
        assert response.status_code == 200
        assert response.json() == {"success": True, "message": "Recordatorio eliminado"}
    assert not EventReminder.objects.exists()


def test_rsvp_delete_keeps_the_reminder(auth_client, user, event):
    auth_client.post(f"/api/events/{event.id}/rsvp")
    auth_client.post(url(event), {"remindAt": "2026-07-01T00:00:00.000Z"}, format="json")

    auth_client.delete(f"/api/events/{event.id}/rsvp")

    assert EventReminder.objects.filter(user=user, event=event).exists()
