"""/api/bookings against docs/api.md#bookings, route by route: bare bodies with exact key sets
(ExperienceRow, TimeSlotRow, BookingRow, ...), wire types (money strings, numbers, ISO
ms Z, slot date as midnight UTC), and bad input answered as a 4xx in the docs/api.md#errors
shape, never a 500."""

import datetime as dt
import json

import pytest
from rest_framework.test import APIClient

from experiences.models import Booking, Experience, ExperienceTimeSlot
from tests.factories import BookingFactory, UserFactory
from tests.helpers import assert_error, book, client_for

pytestmark = pytest.mark.django_db

EXPERIENCE_ROW = {"id", "hostId", "title", "description", "imageUrl", "images", "category",
                  "price", "duration", "maxCapacity", "location", "latitude", "longitude",
                  "includes", "languages", "isActive", "rating", "reviewCount", "createdAt",
                  "updatedAt"}  # fmt: skip
HOST = {"id", "nombre", "apellido", "avatar"}
SLOT_ROW = {"id", "experienceId", "date", "startTime", "endTime", "capacity", "bookedCount",
            "isAvailable", "version", "createdAt"}  # fmt: skip
BOOKING_ROW = {"id", "userId", "experienceId", "timeSlotId", "status", "guestCount",
               "totalPrice", "specialRequests", "stripePaymentId", "confirmedAt", "cancelledAt",
               "createdAt", "updatedAt"}  # fmt: skip
BOOKING_FULL = BOOKING_ROW | {"experience", "timeSlot"}
PAGINATION = {"page", "limit", "total", "totalPages"}
REVIEW = {"id", "userId", "experienceId", "rating", "comment", "createdAt", "user"}


def ok(response, status: int = 200):
    assert response.status_code == status, response.content
    return response.json()


def assert_experience_row(row: dict, extra: set) -> None:
    assert set(row) == EXPERIENCE_ROW | extra
    assert isinstance(row["price"], str) and isinstance(row["rating"], float)
    assert all(isinstance(row[k], list) for k in ("images", "includes", "languages"))
    assert row["createdAt"].endswith("Z") and len(row["createdAt"]) == 24
    if "host" in extra:
        assert set(row["host"]) == HOST


def assert_booking_full(body: dict, extra: set = frozenset()) -> None:
    assert set(body) == BOOKING_FULL | extra
    assert isinstance(body["totalPrice"], str)
    assert_experience_row(body["experience"], {"host"})
    assert set(body["timeSlot"]) == SLOT_ROW
    assert body["timeSlot"]["date"].endswith("T00:00:00.000Z")


NEW_EXPERIENCE = {"title": "Tour de mezcal", "description": "Visita a un palenque.",
                  "category": "TOUR", "price": 349.5, "duration": 90, "maxCapacity": 8,
                  "location": "Santiago Matatlán"}  # fmt: skip


# --- 7.1 experiences ------------------------------------------------------------------
def test_list_contract(api_client, experience):
    body = ok(api_client.get("/api/bookings/experiences?"))

    assert set(body) == {"experiences", "pagination"}
    assert body["pagination"] == {"page": 1, "limit": 10, "total": 1, "totalPages": 1}
    [row] = body["experiences"]
    assert_experience_row(row, {"host", "_count"})
    assert row["_count"] == {"reviews": 0, "bookings": 0}
    assert isinstance(row["latitude"], float)


def test_detail_contract(api_client, experience):
    body = ok(api_client.get(f"/api/bookings/experiences/{experience.id}"))

    assert_experience_row(body, {"host", "reviews", "_count"})
    assert body["reviews"] == [] and body["_count"] == {"reviews": 0, "bookings": 0}
    assert_error(api_client.get("/api/bookings/experiences/nope"), 404, "Experiencia no encontrada")


def test_create_contract(host_client, host):
    body = ok(host_client.post("/api/bookings/experiences", NEW_EXPERIENCE, format="json"), 201)

    assert_experience_row(body, {"host"})
    assert body["hostId"] == host.id and body["price"] in ("349.5", "349.50")
    assert body["images"] == [] and body["includes"] == [] and body["languages"] == ["Español"]


def test_update_contract(host_client, guest_client, experience):
    url = f"/api/bookings/experiences/{experience.id}"

    body = ok(host_client.put(url, {"isActive": False, "price": "500"}, format="json"))

    assert_experience_row(body, {"host"})
    assert body["isActive"] is False and body["price"] in ("500", "500.00")
    r = guest_client.put(url, {"price": 1}, format="json")
    assert_error(r, 403, "No tienes permiso para editar esta experiencia")


def test_delete_contract(host_client, guest_client, experience):
    url = f"/api/bookings/experiences/{experience.id}"
    assert_error(guest_client.delete(url), 403, "No tienes permiso para eliminar esta experiencia")

    r = host_client.generic("DELETE", url, content_type="application/json")

    assert ok(r) == {"message": "Experiencia eliminada"}
    assert not Experience.objects.get(pk=experience.id).is_active


# --- 7.2 slots ------------------------------------------------------------------------
def test_slots_list_contract(api_client, slot):
    day = slot.date.isoformat()

    rows = ok(
        api_client.get(f"/api/bookings/experiences/{slot.experience_id}/slots?startDate={day}")
    )

    assert [set(r) for r in rows] == [SLOT_ROW | {"availableSpots"}]
    assert rows[0]["date"] == f"{day}T00:00:00.000Z"
    assert (rows[0]["startTime"], rows[0]["availableSpots"]) == ("10:00", 5)


def test_slots_create_contract(host_client, guest_client, experience):
    day = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    url = f"/api/bookings/experiences/{experience.id}/slots"
    slots = {"slots": [{"date": day, "startTime": "09:00", "endTime": "10:30"}]}

    assert ok(host_client.post(url, slots, format="json"), 201) == {"created": 1}
    assert ExperienceTimeSlot.objects.get(experience=experience).capacity == 10  # maxCapacity
    assert_error(guest_client.post(url, slots, format="json"), 403,
                 "No tienes permiso para crear horarios")  # fmt: skip


def test_slot_delete_contract(host_client, guest_client, slot):
    url = f"/api/bookings/slots/{slot.id}"
    assert_error(guest_client.delete(url), 403, "No tienes permiso para eliminar este horario")

    assert ok(host_client.generic("DELETE", url, content_type="application/json")) == {
        "message": "Horario eliminado"
    }
    assert_error(host_client.delete(url), 404, "Horario no encontrado")


# --- 7.3 bookings ---------------------------------------------------------------------
def test_booking_create_contract(guest_client, slot):
    body = ok(book(guest_client, slot, guests=2), 201)

    assert set(body) == {"booking", "clientSecret"} and body["clientSecret"] is None
    assert_booking_full(body["booking"])
    assert body["booking"]["status"] == "PENDING" and body["booking"]["totalPrice"] == "900.00"


def test_booking_list_contract(guest_client, guest, slot):
    BookingFactory(user=guest, time_slot=slot)

    body = ok(guest_client.get("/api/bookings/bookings?limit=50&status=PENDING"))

    assert set(body) == {"bookings", "pagination"} and set(body["pagination"]) == PAGINATION
    [row] = body["bookings"]
    assert_booking_full(row)


def test_booking_detail_contract(guest_client, host_client, guest, slot):
    booking = BookingFactory(user=guest, time_slot=slot)
    url = f"/api/bookings/bookings/{booking.id}"

    for client in (guest_client, host_client):  # owner or host
        body = ok(client.get(url))
        assert_booking_full(body, {"user"})
        assert set(body["user"]) == {"id", "nombre", "apellido", "email"}
    assert_error(client_for(UserFactory()).get(url), 403,
                 "No tienes permiso para ver esta reservación")  # fmt: skip


def test_confirm_cancel_complete_contract(guest_client, host_client, guest, slot):
    booking_id = ok(book(guest_client, slot), 201)["booking"]["id"]
    base = f"/api/bookings/bookings/{booking_id}"

    confirmed = ok(guest_client.post(f"{base}/confirm", {}, format="json"))
    assert_booking_full(confirmed)
    assert confirmed["status"] == "CONFIRMED" and confirmed["confirmedAt"].endswith("Z")
    completed = ok(host_client.post(f"{base}/complete", {}, format="json"))
    assert_booking_full(completed)
    assert completed["status"] == "COMPLETED"
    r = guest_client.post(f"{base}/cancel", {}, format="json")
    assert_error(r, 400, "No puedes cancelar una reservación completada")

    other_id = ok(book(client_for(UserFactory()), slot), 201)["booking"]["id"]
    cancelled = ok(host_client.post(f"/api/bookings/bookings/{other_id}/cancel", {}, format="json"))
    assert_booking_full(cancelled)
    assert cancelled["status"] == "CANCELLED" and cancelled["cancelledAt"].endswith("Z")


def test_retry_payment_is_404(guest_client, guest, slot):
    booking = BookingFactory(user=guest, time_slot=slot)

    assert_error(guest_client.post(f"/api/bookings/bookings/{booking.id}/retry-payment", {}), 404)


# --- 7.4 reviews, 7.5 host ------------------------------------------------------------
def test_review_contract(guest_client, guest, slot):
    BookingFactory(user=guest, time_slot=slot, status="COMPLETED")
    url = f"/api/bookings/experiences/{slot.experience_id}/reviews"

    body = ok(guest_client.post(url, {"rating": 5, "comment": "Muy bien"}, format="json"), 201)

    assert set(body) == REVIEW and set(body["user"]) == {"id", "nombre", "avatar"}
    assert body["rating"] == 5
    assert_error(guest_client.post(url, {"rating": 4}, format="json"), 400,
                 "Ya has reseñado esta experiencia")  # fmt: skip
    detail = ok(guest_client.get(f"/api/bookings/experiences/{slot.experience_id}"))
    assert [set(r) for r in detail["reviews"]] == [REVIEW]
    assert detail["rating"] == 5.0 and detail["reviewCount"] == 1


def test_host_experiences_contract(host_client, experience):
    Experience.objects.filter(pk=experience.pk).update(is_active=False)

    rows = ok(host_client.get("/api/bookings/host/experiences"))

    [row] = rows  # inactive ones included, bare array
    assert_experience_row(row, {"_count"})
    assert row["_count"] == {"bookings": 0, "reviews": 0, "timeSlots": 0}


def test_host_bookings_contract(host_client, guest, slot):
    BookingFactory(user=guest, time_slot=slot)

    body = ok(host_client.get("/api/bookings/host/bookings?status=PAYMENT_FAILED"))
    assert body["bookings"] == [] and set(body["pagination"]) == PAGINATION
    body = ok(host_client.get("/api/bookings/host/bookings"))

    [row] = body["bookings"]
    assert_booking_full(row, {"user"})
    assert set(row["user"]) == {"id", "nombre", "apellido", "email", "avatar"}


# --- bad input ------------------------------------------------------------------------
@pytest.mark.parametrize("query", [
    "page=0", "page=-1", "page=1.5", "page=abc", "page=999999999999", "limit=0", "limit=51",
    "limit=2.5", "limit=1e3", "category=NOPE", "minPrice=abc", "maxPrice=NaN",
    "minPrice=1e400", "maxPrice=-Infinity", "date=2026-13-45", "date=garbage",
    "search=" + "y" * 5000, "page=%00",
])  # fmt: skip
def test_list_bad_query_is_400(api_client, query):
    assert_error(api_client.get(f"/api/bookings/experiences?{query}"), 400)


@pytest.mark.parametrize("query", ["", "startDate=2026-02-30", "startDate=2026-07-01T00:00",
                                   "startDate=2026-07-02&endDate=2026-07-01",
                                   "startDate=%00"])  # fmt: skip
def test_slots_bad_query_is_400(api_client, experience, query):
    assert_error(api_client.get(f"/api/bookings/experiences/{experience.id}/slots?{query}"), 400)


@pytest.mark.parametrize("query", ["status=NOPE", "page=1.5", "limit=51", "limit=-1"])
def test_booking_lists_bad_query_is_400(guest_client, query):
    for url in ("/api/bookings/bookings", "/api/bookings/host/bookings"):
        assert_error(guest_client.get(f"{url}?{query}"), 400)


BODY_ROUTES = [
    ("POST", "/api/bookings/experiences"),
    ("PUT", "/api/bookings/experiences/{exp}"),
    ("POST", "/api/bookings/experiences/{exp}/slots"),
    ("POST", "/api/bookings/experiences/{exp}/reviews"),
    ("POST", "/api/bookings/bookings"),
]
WEIRD = [None, 1.5, -1, True, [], {}, "x" * 100_000, "", "\x00", 10**30, "NaN", [None], [{}]]
FIELDS = ["title", "description", "imageUrl", "images", "category", "price", "duration",
          "maxCapacity", "location", "latitude", "longitude", "includes", "languages",
          "isActive", "slots", "rating", "comment", "experienceId", "timeSlotId",
          "guestCount", "specialRequests"]  # fmt: skip


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_wrong_types_in_bodies_are_4xx_never_500(host_client, experience, method, path):
    url = path.format(exp=experience.id)
    for field in FIELDS:
        for value in WEIRD:
            raw = json.dumps({field: value})
            r = host_client.generic(method, url, raw, content_type="application/json")
            if r.status_code < 400:  # PUT with a valid subset is a legitimate update
                assert method == "PUT", (field, value)
                continue
            assert r.status_code < 500, (field, value, r.content[:200])
            assert_error(r, r.status_code)


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize(("raw", "content_type"), [
    (b"{not json", "application/json"), (b"", "application/json"), (b"", None),
    (b"[]", "application/json"), (b"null", "application/json"), (b"\xff", "application/json"),
    (b"<x/>", "text/xml"),
])  # fmt: skip
def test_malformed_bodies_are_4xx(host_client, experience, method, path, raw, content_type):
    kwargs = {"content_type": content_type} if content_type else {}

    r = host_client.generic(method, path.format(exp=experience.id), raw, **kwargs)

    if method == "PUT" and r.status_code == 200:  # nothing to change: a valid no-op
        return
    assert 400 <= r.status_code < 500, r.content
    assert_error(r, r.status_code)


@pytest.mark.parametrize("bad_id", ["%00", "a%00b", "x" * 3000, "demo_user_id", "%C3%B1"])
def test_impossible_ids_are_404(host_client, bad_id):
    for method, url, message in [
        ("GET", f"/api/bookings/experiences/{bad_id}", "Experiencia no encontrada"),
        ("PUT", f"/api/bookings/experiences/{bad_id}", "Experiencia no encontrada"),
        ("DELETE", f"/api/bookings/experiences/{bad_id}", "Experiencia no encontrada"),
        ("POST", f"/api/bookings/experiences/{bad_id}/reviews", "Experiencia no encontrada"),
        ("DELETE", f"/api/bookings/slots/{bad_id}", "Horario no encontrado"),
        ("GET", f"/api/bookings/bookings/{bad_id}", "Reservación no encontrada"),
        ("POST", f"/api/bookings/bookings/{bad_id}/confirm", "Reservación no encontrada"),
        ("POST", f"/api/bookings/bookings/{bad_id}/cancel", "Reservación no encontrada"),
        ("POST", f"/api/bookings/bookings/{bad_id}/complete", "Reservación no encontrada"),
    ]:
        body = {"rating": 5} if url.endswith("reviews") else {}
        r = host_client.generic(method, url, json.dumps(body), content_type="application/json")
        assert_error(r, 404, message)
    r = APIClient().get(f"/api/bookings/experiences/{bad_id}/slots?startDate=2026-07-01")
    assert_error(r, 404, "Experiencia no encontrada")
    r = host_client.post(
        "/api/bookings/bookings", {"experienceId": bad_id, "timeSlotId": bad_id}, format="json"
    )
    assert_error(r, 404, "Experiencia no encontrada")
    assert not Booking.objects.exists()


def test_demo_token_on_public_routes_is_anonymous(experience):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer demo_booking_1700000000")

    assert ok(client.get("/api/bookings/experiences"))["pagination"]["total"] == 1
    ok(client.get(f"/api/bookings/experiences/{experience.id}"))
    ok(client.get(f"/api/bookings/experiences/{experience.id}/slots?startDate=2026-07-01"))
    assert_error(client.get("/api/bookings/bookings"), 401, "No autorizado")


def test_price_bounds_accept_any_finite_number(api_client, host):
    from decimal import Decimal

    from tests.factories import ExperienceFactory

    cheap = ExperienceFactory(host=host, price=Decimal("10.55"))
    dear = ExperienceFactory(host=host, price=Decimal("10.56"))

    def listed(query: str) -> set[str]:
        body = ok(api_client.get(f"/api/bookings/experiences?{query}"))
        return {e["id"] for e in body["experiences"]}

    assert listed("minPrice=10.555") == {dear.id}
    assert listed("maxPrice=10.555") == {cheap.id}
    assert listed("minPrice=1e1&maxPrice=10.5599999") == {cheap.id}
    for bad in ("minPrice=1e13", "maxPrice=-1e13", "minPrice=NaN", "maxPrice=Infinity"):
        assert_error(api_client.get(f"/api/bookings/experiences?{bad}"), 400)


@pytest.mark.parametrize(("raw", "content_type"), [
    (b"{not json", "application/json"), (b"", "application/json"), (b"", None),
    (b"[]", "application/json"), (b"\xff", "application/json"), (b"<x/>", "text/xml"),
])  # fmt: skip
def test_state_changes_ignore_whatever_body_they_get(guest_client, host_client, slot, raw,
                                                     content_type):  # fmt: skip
    # confirm, cancel and complete take no input (the UI sends {}): a stray body is never read.
    kwargs = {"content_type": content_type} if content_type else {}
    booking_id = ok(book(guest_client, slot), 201)["booking"]["id"]
    base = f"/api/bookings/bookings/{booking_id}"

    assert (
        ok(guest_client.generic("POST", f"{base}/confirm", raw, **kwargs))["status"] == "CONFIRMED"
    )
    assert (
        ok(host_client.generic("POST", f"{base}/complete", raw, **kwargs))["status"] == "COMPLETED"
    )
    other = ok(book(client_for(UserFactory()), slot), 201)["booking"]["id"]
    r = host_client.generic("POST", f"/api/bookings/bookings/{other}/cancel", raw, **kwargs)
    assert ok(r)["status"] == "CANCELLED"
