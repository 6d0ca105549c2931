"""POST/GET /api/bookings/bookings... (docs/api.md#bookings-routes): shapes, error order,
permissions."""

import datetime as dt

import pytest

from experiences.models import Booking, BookingStatus
from experiences.services import booking_create
from tests.factories import BookingFactory, ExperienceFactory, TimeSlotFactory, UserFactory
from tests.helpers import book, client_for

pytestmark = pytest.mark.django_db

BOOKING_ROW_KEYS = {
    "id",
    "userId",
    "experienceId",
    "timeSlotId",
    "status",
    "guestCount",
    "totalPrice",
    "specialRequests",
    "stripePaymentId",
    "confirmedAt",
    "cancelledAt",
    "createdAt",
    "updatedAt",
}
SLOT_ROW_KEYS = {
    "id",
    "experienceId",
    "date",
    "startTime",
    "endTime",
    "capacity",
    "bookedCount",
    "isAvailable",
    "version",
    "createdAt",
}


def error(response) -> str:
    body = response.json()
    assert body["success"] is False and body["error"] == body["message"]
    return body["message"]


def test_create_booking_returns_pending_with_null_client_secret(guest, guest_client, slot):
    response = guest_client.post(
        "/api/bookings/bookings",
        {
            "experienceId": slot.experience_id,
            "timeSlotId": slot.id,
            "guestCount": 2,
            "specialRequests": "Vegetariano",
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["clientSecret"] is None and "clientSecret" in body
    booking = body["booking"]
    assert set(booking) == BOOKING_ROW_KEYS | {"experience", "timeSlot"}
    assert booking["status"] == "PENDING"  # [F14]
    assert booking["totalPrice"] == "900.00"
    assert booking["userId"] == guest.id and booking["stripePaymentId"] is None
    assert set(booking["timeSlot"]) == SLOT_ROW_KEYS
    assert booking["timeSlot"]["bookedCount"] == 2 and booking["timeSlot"]["version"] == 2
    assert booking["experience"]["host"]["nombre"] == "Artesano"
    assert booking["experience"]["rating"] == 0.0
    slot.refresh_from_db()
    assert (slot.booked_count, slot.version, slot.is_available) == (2, 2, True)


def test_total_price_is_frozen_at_booking_time(guest, slot):
    booking = booking_create(
        user=guest, experience_id=slot.experience_id, time_slot_id=slot.id, guest_count=3
    )
    slot.experience.price = 999
    slot.experience.save()
    booking.refresh_from_db()
    assert str(booking.total_price) == "1350.00"


def test_booking_the_last_seats_marks_the_slot_unavailable(guest_client, slot):
    assert book(guest_client, slot, guests=5).status_code == 201
    slot.refresh_from_db()
    assert (slot.booked_count, slot.is_available) == (5, False)


@pytest.mark.parametrize("bad_id", ["nope", "exp_1", "a b", "%00", "x" * 100, "x" * 5000])
def test_unknown_or_malformed_experience_id_is_404(guest_client, slot, bad_id):
    response = guest_client.post(
        "/api/bookings/bookings",
        {"experienceId": bad_id, "timeSlotId": slot.id},
        format="json",
    )
    assert response.status_code == 404 and error(response) == "Experiencia no encontrada"


@pytest.mark.parametrize("bad_id", ["a\x00b", "", None, ["x"]])
def test_unusable_id_in_body_is_400(guest_client, slot, bad_id):
    response = guest_client.post(
        "/api/bookings/bookings",
        {"experienceId": bad_id, "timeSlotId": slot.id},
        format="json",
    )
    assert response.status_code == 400 and response.json()["details"]


def test_errors_follow_the_documented_order(guest, guest_client, experience, slot):
    other_slot = TimeSlotFactory()
    url = "/api/bookings/bookings"

    def post(exp_id, slot_id, guests=1):
        return guest_client.post(
            url,
            {"experienceId": exp_id, "timeSlotId": slot_id, "guestCount": guests},
            format="json",
        )

    # Unknown experience wins over unknown slot.
    assert error(post("missing", "missing")) == "Experiencia no encontrada"
    r = post(experience.id, "slot_1_morning")
    assert r.status_code == 404 and error(r) == "Horario no encontrado"
    r = post(experience.id, other_slot.id)
    assert r.status_code == 400 and error(r) == "El horario no corresponde a esta experiencia"
    r = post(experience.id, slot.id, guests=6)
    assert r.status_code == 400 and error(r) == "Solo hay 5 lugares disponibles"
    assert post(experience.id, slot.id, guests=2).status_code == 201
    r = post(experience.id, slot.id, guests=1)
    assert r.status_code == 409 and error(r) == "Ya tienes una reservación activa para este horario"
    assert Booking.objects.count() == 1


def test_inactive_experience_is_rejected(guest_client, experience, slot):
    experience.is_active = False
    experience.save()
    r = book(guest_client, slot)
    assert r.status_code == 400 and error(r) == "Experiencia no disponible"  # [F15]


def test_past_slot_is_rejected(guest_client, experience):
    past = TimeSlotFactory(experience=experience, date=dt.date.today() - dt.timedelta(days=1))
    r = book(guest_client, past)
    assert r.status_code == 400 and error(r) == "Este horario ya no está disponible"  # [F15]


def test_unavailable_slot_is_rejected(guest_client, slot):
    slot.is_available = False
    slot.save()
    r = book(guest_client, slot)
    assert r.status_code == 400 and error(r) == "Este horario ya no está disponible"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"experienceId": "a"},
        {"experienceId": "a", "timeSlotId": "b", "guestCount": 0},
        {"experienceId": "a", "timeSlotId": "b", "guestCount": 1.5},
        {"experienceId": "a", "timeSlotId": "b", "guestCount": "dos"},
        {"experienceId": "a", "timeSlotId": "b", "specialRequests": "x" * 501},
        {"experienceId": ["a"], "timeSlotId": {"b": 1}},
        [1, 2],
    ],
)
def test_invalid_booking_body_is_400_with_details(guest_client, body):
    response = guest_client.post("/api/bookings/bookings", body, format="json")
    assert response.status_code == 400
    assert response.json()["details"]


def test_malformed_json_is_400(guest_client):
    response = guest_client.post("/api/bookings/bookings", "{nope", content_type="application/json")
    assert response.status_code == 400 and error(response) == "JSON inválido"


def test_anonymous_caller_gets_401(api_client, slot):
    r = book(api_client, slot)
    assert r.status_code == 401 and error(r) == "No autorizado"
    assert api_client.get("/api/bookings/bookings").status_code == 401
    assert api_client.get("/api/bookings/host/bookings").status_code == 401


def test_banned_user_gets_403(slot):
    banned = UserFactory(banned_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    r = book(client_for(banned), slot)
    assert r.status_code == 403 and error(r) == "Tu cuenta ha sido suspendida"


# --- idempotency ---------------------------------------------------------------------------
def test_same_idempotency_key_replays_the_first_response(guest_client, slot):
    first = book(guest_client, slot, HTTP_IDEMPOTENCY_KEY="k-1")
    again = book(guest_client, slot, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Booking.objects.count() == 1


def test_same_idempotency_key_with_other_body_is_422(guest_client, slot):
    assert book(guest_client, slot, HTTP_IDEMPOTENCY_KEY="k-2").status_code == 201
    r = book(guest_client, slot, guests=2, HTTP_IDEMPOTENCY_KEY="k-2")
    assert r.status_code == 422 and error(r)
    assert Booking.objects.count() == 1


def test_idempotency_keys_are_per_user(guest_client, slot):
    assert book(guest_client, slot, HTTP_IDEMPOTENCY_KEY="shared").status_code == 201
    other = client_for(UserFactory())
    r = book(other, slot, HTTP_IDEMPOTENCY_KEY="shared")
    assert r.status_code == 201 and Booking.objects.count() == 2


def test_failed_request_does_not_consume_the_idempotency_key(guest_client, slot):
    r = book(guest_client, slot, guests=6, HTTP_IDEMPOTENCY_KEY="k-3")
    assert r.status_code == 400
    slot.capacity = 6
    slot.save()
    assert book(guest_client, slot, guests=6, HTTP_IDEMPOTENCY_KEY="k-3").status_code == 201


def test_overlong_idempotency_key_is_400(guest_client, slot):
    assert book(guest_client, slot, HTTP_IDEMPOTENCY_KEY="k" * 300).status_code == 400


# --- confirm / cancel / complete -----------------------------------------------------------
@pytest.fixture
def booking(guest, slot):
    return booking_create(user=guest, experience_id=slot.experience_id, time_slot_id=slot.id)


def post_action(client, booking, verb: str):
    return client.post(f"/api/bookings/bookings/{booking.id}/{verb}", {}, format="json")


def test_owner_confirms_pending_booking(guest_client, booking):
    r = post_action(guest_client, booking, "confirm")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "CONFIRMED" and body["confirmedAt"]
    assert {"experience", "timeSlot"} <= set(body)
    r = post_action(guest_client, booking, "confirm")
    assert r.status_code == 400 and error(r) == "Esta reservación ya fue procesada"


def test_only_the_owner_confirms(host_client, booking):
    r = post_action(host_client, booking, "confirm")
    assert r.status_code == 403 and error(r) == "No tienes permiso para confirmar esta reservación"


def test_owner_or_host_cancels_and_seats_come_back(guest_client, host_client, guest, slot):
    mine = booking_create(
        user=guest, experience_id=slot.experience_id, time_slot_id=slot.id, guest_count=2
    )
    r = post_action(host_client, mine, "cancel")
    assert r.status_code == 200
    assert r.json()["status"] == "CANCELLED" and r.json()["cancelledAt"]
    assert r.json()["timeSlot"]["bookedCount"] == 0
    r = post_action(guest_client, mine, "cancel")
    assert r.status_code == 400 and error(r) == "Esta reservación ya fue cancelada"


def test_stranger_cannot_cancel(booking):
    r = post_action(client_for(UserFactory()), booking, "cancel")
    assert r.status_code == 403 and error(r) == "No tienes permiso para cancelar esta reservación"


def test_completed_booking_cannot_be_cancelled(guest_client, host_client, booking):
    post_action(guest_client, booking, "confirm")
    assert post_action(host_client, booking, "complete").status_code == 200
    r = post_action(guest_client, booking, "cancel")
    assert r.status_code == 400 and error(r) == "No puedes cancelar una reservación completada"


def test_only_host_completes_and_only_confirmed(guest_client, host_client, booking):
    r = post_action(host_client, booking, "complete")
    assert r.status_code == 400 and error(r) == "Solo puedes completar reservaciones confirmadas"
    post_action(guest_client, booking, "confirm")
    r = post_action(guest_client, booking, "complete")
    assert r.status_code == 403 and error(r) == "No tienes permiso para completar esta reservación"
    r = post_action(host_client, booking, "complete")
    assert r.status_code == 200 and r.json()["status"] == "COMPLETED"


@pytest.mark.parametrize("verb", ["confirm", "cancel", "complete"])
@pytest.mark.parametrize("bad_id", ["booking_123", "x" * 300, "%00", "a.b"])
def test_unknown_booking_is_404(guest_client, verb, bad_id):
    r = guest_client.post(f"/api/bookings/bookings/{bad_id}/{verb}", {}, format="json")
    assert r.status_code == 404 and error(r) == "Reservación no encontrada"


def test_retry_payment_answers_json_404(guest_client, booking):
    r = post_action(guest_client, booking, "retry-payment")
    assert r.status_code == 404 and error(r)


# --- reads ---------------------------------------------------------------------------------
def test_booking_list_shows_only_the_callers_bookings(guest, guest_client, slot):
    mine = BookingFactory(user=guest, time_slot=slot)
    BookingFactory(time_slot=slot)  # someone else's
    r = guest_client.get("/api/bookings/bookings")
    assert r.status_code == 200
    body = r.json()
    assert [b["id"] for b in body["bookings"]] == [mine.id]
    assert body["pagination"] == {"page": 1, "limit": 10, "total": 1, "totalPages": 1}
    assert body["bookings"][0]["experience"]["host"]["id"] == slot.experience.host_id


@pytest.mark.parametrize("status", [s.value for s in BookingStatus])
def test_booking_list_filters_by_every_status(guest, guest_client, slot, status):
    BookingFactory(user=guest, time_slot=slot, status=status)  # [F19]
    r = guest_client.get("/api/bookings/bookings", {"status": status, "limit": 50})
    assert r.status_code == 200 and r.json()["pagination"]["total"] == 1


@pytest.mark.parametrize(
    "query",
    [{"limit": 51}, {"limit": 0}, {"page": 0}, {"page": "1.5"}, {"status": "NOPE"}],
)
def test_booking_list_rejects_bad_query(guest_client, query):
    assert guest_client.get("/api/bookings/bookings", query).status_code == 400


def test_booking_list_paginates_newest_first(guest, guest_client, experience):
    made = [
        BookingFactory(user=guest, time_slot=TimeSlotFactory(experience=experience))
        for _ in range(3)
    ]
    r = guest_client.get("/api/bookings/bookings", {"limit": 2, "page": 2})
    body = r.json()
    assert body["pagination"] == {"page": 2, "limit": 2, "total": 3, "totalPages": 2}
    assert [b["id"] for b in body["bookings"]] == [made[0].id]


def test_booking_detail_for_owner_and_host_only(guest_client, host_client, booking):
    for client in (guest_client, host_client):
        r = client.get(f"/api/bookings/bookings/{booking.id}")
        assert r.status_code == 200
        assert set(r.json()["user"]) == {"id", "nombre", "apellido", "email"}
    r = client_for(UserFactory()).get(f"/api/bookings/bookings/{booking.id}")
    assert r.status_code == 403 and error(r) == "No tienes permiso para ver esta reservación"
    r = guest_client.get("/api/bookings/bookings/booking_1700000000")
    assert r.status_code == 404 and error(r) == "Reservación no encontrada"


def test_host_bookings_lists_bookings_on_the_callers_experiences(host, host_client, booking):
    BookingFactory()  # on someone else's experience
    r = host_client.get("/api/bookings/host/bookings")
    body = r.json()
    assert [b["id"] for b in body["bookings"]] == [booking.id]
    assert set(body["bookings"][0]["user"]) == {"id", "nombre", "apellido", "email", "avatar"}
    assert client_for(UserFactory()).get("/api/bookings/host/bookings").json()["bookings"] == []


def test_host_experiences_include_inactive_with_counts(host, host_client, slot, booking):
    hidden = ExperienceFactory(host=host, is_active=False)
    ExperienceFactory()  # another host's
    r = host_client.get("/api/bookings/host/experiences")
    assert r.status_code == 200
    rows = r.json()
    assert [e["id"] for e in rows] == [hidden.id, slot.experience_id]
    assert rows[1]["_count"] == {"bookings": 1, "reviews": 0, "timeSlots": 1}
