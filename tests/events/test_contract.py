"""/api/events against docs/api.md#events, route by route: envelopes (reads {success, data}, writes
{success, message}), exact EventItem/EventDetail keys, and bad input answered as a 4xx in
the shape of docs/api.md#errors, never a 500."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from events.models import EventReminder, EventRSVP
from tests.factories import EventFactory
from tests.helpers import assert_error, data_of

pytestmark = pytest.mark.django_db

ITEM = {"id", "title", "description", "imageUrl", "location", "latitude", "longitude",
        "startDate", "endDate", "category", "isOfficial", "rsvpCount"}  # fmt: skip
MINE = {"hasRSVP", "hasReminder"}
DETAIL = ITEM | {"createdAt", "updatedAt"}


def assert_done(response, message: str) -> None:
    assert response.status_code == 200, response.content
    assert response.json() == {"success": True, "message": message}


def test_list_contract_anonymous_and_signed_in(api_client, auth_client, event):
    anon = data_of(api_client.get("/api/events?page=1&limit=50"))
    mine = data_of(auth_client.get("/api/events"))

    assert set(anon) == set(mine) == {"events", "hasMore", "total"}
    assert [set(e) for e in anon["events"]] == [ITEM]
    assert [set(e) for e in mine["events"]] == [ITEM | MINE]
    item = anon["events"][0]
    assert isinstance(item["latitude"], float) and item["startDate"].endswith(".000Z")


def test_detail_contract(api_client, auth_client, event):
    assert set(data_of(api_client.get(f"/api/events/{event.id}"))) == DETAIL
    assert set(data_of(auth_client.get(f"/api/events/{event.id}"))) == DETAIL | MINE
    assert_error(api_client.get("/api/events/nope"), 404, "Evento no encontrado")


def test_rsvp_post_and_delete_contract(auth_client, user, event):
    assert_done(
        auth_client.generic("POST", f"/api/events/{event.id}/rsvp"), "Asistencia confirmada"
    )
    assert_error(
        auth_client.post(f"/api/events/{event.id}/rsvp"), 400, "Ya confirmaste tu asistencia"
    )
    assert_error(auth_client.post("/api/events/nope/rsvp"), 404, "Evento no encontrado")

    r = auth_client.generic(
        "DELETE", f"/api/events/{event.id}/rsvp", content_type="application/json"
    )

    assert_done(r, "Asistencia cancelada")
    assert not EventRSVP.objects.filter(user=user).exists()
    assert_done(auth_client.delete("/api/events/nope/rsvp"), "Asistencia cancelada")


def test_reminder_post_and_delete_contract(auth_client, user, event):
    remind_at = (event.start_date - dt.timedelta(hours=1)).isoformat().replace("+00:00", "Z")

    r = auth_client.post(f"/api/events/{event.id}/reminder", {"remindAt": remind_at}, format="json")

    assert_done(r, "Recordatorio creado")
    assert_error(
        auth_client.post(
            f"/api/events/{event.id}/reminder",
            {"remindAt": event.start_date.isoformat()},
            format="json",
        ),
        400,
        "El recordatorio debe ser antes del evento",
    )
    assert_done(
        auth_client.generic(
            "DELETE", f"/api/events/{event.id}/reminder", content_type="application/json"
        ),
        "Recordatorio eliminado",
    )
    assert not EventReminder.objects.filter(user=user).exists()


def test_my_rsvps_contract(auth_client, user, event):
    auth_client.post(f"/api/events/{event.id}/rsvp")
    EventFactory()  # not mine

    data = data_of(auth_client.get("/api/events/my-rsvps"))

    assert set(data) == {"events", "total"} and data["total"] == 1
    assert [set(e) for e in data["events"]] == [ITEM | MINE]
    assert data["events"][0]["hasRSVP"] is True and data["events"][0]["hasReminder"] is False


def test_my_rsvps_is_matched_before_the_event_id_route(api_client):
    # An anonymous caller gets the route's 401, not "Evento no encontrado" for id my-rsvps.
    assert_error(api_client.get("/api/events/my-rsvps"), 401, "No autorizado")


# --- bad input ------------------------------------------------------------------------
@pytest.mark.parametrize("query", [
    "page=0", "page=-1", "page=1.5", "page=abc", "page=999999999999", "limit=0", "limit=51",
    "limit=2.5", "limit=1e3", "category=NOPE", "startDate=garbage", "endDate=2026-02-30",
    "startDate=%00", "startDate=" + "9" * 200,
])  # fmt: skip
def test_list_bad_query_is_400(api_client, query):
    assert_error(api_client.get(f"/api/events?{query}"), 400)


@pytest.mark.parametrize("body", [
    {}, {"remindAt": None}, {"remindAt": 17}, {"remindAt": ["2026-07-01"]},
    {"remindAt": {"a": 1}}, {"remindAt": "x" * 100_000}, {"remindAt": "2026-13-01"},
])  # fmt: skip
def test_reminder_bad_body_is_400(auth_client, event, body):
    r = auth_client.post(f"/api/events/{event.id}/reminder", body, format="json")

    assert_error(r, 400)
    assert not EventReminder.objects.exists()


@pytest.mark.parametrize(("raw", "content_type"), [
    (b"{not json", "application/json"), (b"", "application/json"), (b"", None),
    (b"[]", "application/json"), (b"null", "application/json"), (b"\xff", "application/json"),
    (b"<x/>", "text/xml"),
])  # fmt: skip
def test_reminder_malformed_body_is_4xx(auth_client, event, raw, content_type):
    kwargs = {"content_type": content_type} if content_type else {}

    r = auth_client.generic("POST", f"/api/events/{event.id}/reminder", raw, **kwargs)

    assert 400 <= r.status_code < 500
    assert_error(r, r.status_code)


@pytest.mark.parametrize("event_id", ["%00", "a%00b", "x" * 3000, "a.b", "%C3%B1"])
def test_impossible_event_ids_are_404_or_idempotent(auth_client, event_id):
    for path in (f"/api/events/{event_id}", f"/api/events/{event_id}/rsvp"):
        method = auth_client.get if path.endswith(event_id) else auth_client.post
        assert_error(method(path), 404, "Evento no encontrado")
    r = auth_client.post(
        f"/api/events/{event_id}/reminder", {"remindAt": "2026-01-01"}, format="json"
    )
    assert_error(r, 404, "Evento no encontrado")
    assert_done(auth_client.delete(f"/api/events/{event_id}/rsvp"), "Asistencia cancelada")
    assert_done(auth_client.delete(f"/api/events/{event_id}/reminder"), "Recordatorio eliminado")


def test_demo_and_garbage_tokens_never_401_on_optional_routes(event):
    for token in ("demo_token_1700000000", "demo_user_1", "garbage", "a.b.c"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert "hasRSVP" not in data_of(client.get("/api/events"))["events"][0]
        assert "hasRSVP" not in data_of(client.get(f"/api/events/{event.id}"))


@pytest.mark.django_db(transaction=True)
def test_rsvp_to_an_event_deleted_meanwhile_is_404_not_the_duplicate_400():  # [F11]
    """The event exists when the RSVP checks it, then its deletion commits before the
    RSVP's deferred foreign-key check: that IntegrityError is not a duplicate."""
    import threading
    import time

    from django.db import connection, transaction

    from tests.factories import UserFactory

    user, event = UserFactory(), EventFactory()
    client = APIClient()
    client.force_authenticate(user=user)
    pids: list[int] = []
    responses: list = []

    def rsvp() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pids.append(cursor.fetchone()[0])
            responses.append(client.post(f"/api/events/{event.id}/rsvp"))
        finally:
            connection.close()

    with transaction.atomic():
        with connection.cursor() as cursor:
            # Raw DELETE: the row lock is held until this block commits.
            cursor.execute("DELETE FROM events_event WHERE id = %s", [event.id])
        thread = threading.Thread(target=rsvp)
        thread.start()
        waiting = False
        for _ in range(2000):  # until the RSVP's commit waits on our row lock (bounded)
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted)",
                    [pids[0] if pids else -1],
                )
                waiting = cursor.fetchone()[0]
            if waiting or not thread.is_alive():
                break
            time.sleep(0.005)
        assert waiting, "the RSVP never reached its foreign-key check"
    thread.join()

    assert_error(responses[0], 404, "Evento no encontrado")
    assert not EventRSVP.objects.exists()


@pytest.mark.parametrize(("raw", "content_type"), [
    (b"{not json", "application/json"), (b"", "application/json"), (b"[]", "application/json"),
    (b"\xff", "application/json"), (b"<x/>", "text/xml"),
])  # fmt: skip
def test_rsvp_ignores_whatever_body_it_gets(auth_client, user, event, raw, content_type):
    r = auth_client.generic("POST", f"/api/events/{event.id}/rsvp", raw, content_type=content_type)

    assert_done(r, "Asistencia confirmada")
    assert EventRSVP.objects.filter(user=user, event=event).exists()
