"""Experiences, slots and reviews over HTTP: docs/api.md#experiences,
docs/api.md#time-slots and docs/api.md#reviews."""

import datetime as dt

import pytest

from experiences.models import BookingStatus, Experience, ExperienceTimeSlot
from tests.factories import BookingFactory, ExperienceFactory, TimeSlotFactory, UserFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

ROW_KEYS = {
    "id",
    "hostId",
    "title",
    "description",
    "imageUrl",
    "images",
    "category",
    "price",
    "duration",
    "maxCapacity",
    "location",
    "latitude",
    "longitude",
    "includes",
    "languages",
    "isActive",
    "rating",
    "reviewCount",
    "createdAt",
    "updatedAt",
}
NEW = {
    "title": "Taller de alebrijes",
    "description": "Talla y pinta tu propio alebrije con una familia de artesanos.",
    "category": "TALLER",
    "price": 350.5,
    "duration": 180,
    "maxCapacity": 8,
    "location": "San Martín Tilcajete",
}


def error(response) -> str:
    body = response.json()
    assert body["success"] is False and body["error"] == body["message"]
    return body["message"]


# --- list ----------------------------------------------------------------------------------
def test_list_shape_and_defaults(api_client, experience):
    r = api_client.get("/api/bookings/experiences")
    assert r.status_code == 200
    body = r.json()
    assert body["pagination"] == {"page": 1, "limit": 10, "total": 1, "totalPages": 1}
    row = body["experiences"][0]
    assert set(row) == ROW_KEYS | {"host", "_count"}
    assert row["price"] == "450.00" and isinstance(row["rating"], float)
    assert row["languages"] == ["Español"] and row["images"] == [] and row["includes"] == []
    assert set(row["host"]) == {"id", "nombre", "apellido", "avatar"}
    assert row["_count"] == {"reviews": 0, "bookings": 0}
    assert row["createdAt"].endswith("Z")


def test_list_accepts_an_empty_query_string(api_client, experience):
    assert api_client.get("/api/bookings/experiences?").status_code == 200


def test_list_hides_inactive_and_orders_newest_first(api_client, host):
    old = ExperienceFactory(host=host)
    ExperienceFactory(host=host, is_active=False)
    new = ExperienceFactory(host=host)
    ids = [e["id"] for e in api_client.get("/api/bookings/experiences").json()["experiences"]]
    assert ids == [new.id, old.id]


def test_list_applies_both_price_bounds(api_client, host):
    cheap = ExperienceFactory(host=host, price=100)
    mid = ExperienceFactory(host=host, price=500)
    ExperienceFactory(host=host, price=2000)
    r = api_client.get("/api/bookings/experiences", {"minPrice": 200, "maxPrice": 1000})
    assert [e["id"] for e in r.json()["experiences"]] == [mid.id]  # [F16]
    r = api_client.get("/api/bookings/experiences", {"maxPrice": "150"})
    assert [e["id"] for e in r.json()["experiences"]] == [cheap.id]


def test_list_filters_by_category_search_and_date(api_client, host):
    tour = ExperienceFactory(host=host, category="TOUR", title="Ruta del Mezcal")
    ExperienceFactory(host=host, category="CLASE", location="Mitla")
    day = dt.date.today() + dt.timedelta(days=40)
    TimeSlotFactory(experience=tour, date=day)
    get = lambda **q: [  # noqa: E731
        e["id"] for e in api_client.get("/api/bookings/experiences", q).json()["experiences"]
    ]
    assert get(category="TOUR") == [tour.id]
    assert get(search="mezcal") == [tour.id]
    assert len(get(search="MITLA")) == 1
    assert get(date=day.isoformat()) == [tour.id]
    assert get(date=(day + dt.timedelta(days=1)).isoformat()) == []


def test_list_paginates(api_client, host):
    ExperienceFactory.create_batch(3, host=host)
    body = api_client.get("/api/bookings/experiences", {"page": 2, "limit": 2}).json()
    assert len(body["experiences"]) == 1
    assert body["pagination"] == {"page": 2, "limit": 2, "total": 3, "totalPages": 2}


@pytest.mark.parametrize(
    "query",
    [
        {"category": "NOPE"},
        {"minPrice": "abc"},
        {"maxPrice": "NaN"},
        {"date": "2026-13-01"},
        {"date": "20260701"},
        {"page": "0"},
        {"page": "x"},
        {"limit": "51"},
        {"limit": "2.5"},
    ],
)
def test_list_rejects_an_invalid_query_with_400(api_client, query):
    r = api_client.get("/api/bookings/experiences", query)
    assert r.status_code == 400 and r.json()["details"]


def test_public_routes_ignore_a_bad_token(api_client, experience):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer demo_token_123")
    assert api_client.get("/api/bookings/experiences").status_code == 200
    assert api_client.get(f"/api/bookings/experiences/{experience.id}").status_code == 200


# --- detail --------------------------------------------------------------------------------
def test_detail_has_host_newest_reviews_and_counts(api_client, experience):
    from experiences.models import ExperienceReview

    reviewers = UserFactory.create_batch(12)
    for u in reviewers:
        ExperienceReview.objects.create(user=u, experience=experience, rating=4)
    body = api_client.get(f"/api/bookings/experiences/{experience.id}").json()
    assert set(body) == ROW_KEYS | {"host", "reviews", "_count"}
    assert len(body["reviews"]) == 10
    assert body["reviews"][0]["userId"] == reviewers[-1].id
    assert set(body["reviews"][0]["user"]) == {"id", "nombre", "avatar"}
    assert body["_count"] == {"reviews": 12, "bookings": 0}


def test_detail_of_inactive_experience_is_still_returned(api_client, experience):
    experience.is_active = False
    experience.save()
    r = api_client.get(f"/api/bookings/experiences/{experience.id}")
    assert r.status_code == 200 and r.json()["isActive"] is False


@pytest.mark.parametrize("bad_id", ["exp_123", "x" * 300, "a.b", "%20", "%00", "ñandú"])
def test_detail_of_unknown_or_malformed_id_is_404(api_client, bad_id):
    r = api_client.get(f"/api/bookings/experiences/{bad_id}")
    assert r.status_code == 404 and error(r) == "Experiencia no encontrada"


# --- create / update / delete --------------------------------------------------------------
def test_create_experience_makes_the_caller_host(user, auth_client):
    r = auth_client.post("/api/bookings/experiences", NEW, format="json")
    assert r.status_code == 201
    body = r.json()
    assert set(body) == ROW_KEYS | {"host"}
    assert body["hostId"] == user.id and body["price"] == "350.50"
    assert body["languages"] == ["Español"] and body["isActive"] is True


@pytest.mark.parametrize(
    "change",
    [
        {"title": "ab"},
        {"description": "corto"},
        {"price": 0},
        {"duration": 1.5},
        {"maxCapacity": -1},
        {"category": "FIESTA"},
        {"latitude": 91},
        {"imageUrl": "not a url"},
        {"languages": "Español"},
    ],
)
def test_create_experience_rejects_invalid_body(auth_client, change):
    r = auth_client.post("/api/bookings/experiences", {**NEW, **change}, format="json")
    assert r.status_code == 400
    assert r.json()["details"][0]["field"] == next(iter(change))
    assert not Experience.objects.exists()


def test_create_experience_requires_auth(api_client):
    assert api_client.post("/api/bookings/experiences", NEW, format="json").status_code == 401


def test_host_updates_partially(host_client, experience):
    r = host_client.put(
        f"/api/bookings/experiences/{experience.id}",
        {"price": 500, "isActive": False},
        format="json",
    )
    assert r.status_code == 200
    body = r.json()
    assert body["price"] == "500.00" and body["isActive"] is False
    assert body["title"] == experience.title and body["host"]["id"] == experience.host_id


def test_only_host_updates_or_deletes(experience):
    stranger = client_for(UserFactory())
    r = stranger.put(f"/api/bookings/experiences/{experience.id}", {"price": 1}, format="json")
    assert r.status_code == 403 and error(r) == "No tienes permiso para editar esta experiencia"
    r = stranger.delete(f"/api/bookings/experiences/{experience.id}")
    assert r.status_code == 403 and error(r) == "No tienes permiso para eliminar esta experiencia"
    r = stranger.put("/api/bookings/experiences/nope", {"price": 1}, format="json")
    assert r.status_code == 404


def test_delete_is_soft(host_client, experience):
    r = host_client.delete(
        f"/api/bookings/experiences/{experience.id}", content_type="application/json"
    )
    assert r.status_code == 200 and r.json() == {"message": "Experiencia eliminada"}
    experience.refresh_from_db()
    assert experience.is_active is False


# --- slots ---------------------------------------------------------------------------------
def test_slots_list_shape_order_and_available_spots(api_client, experience):
    day = dt.date.today() + dt.timedelta(days=50)
    late = TimeSlotFactory(
        experience=experience, date=day, start_time=dt.time(17), end_time=dt.time(19)
    )
    early = TimeSlotFactory(experience=experience, date=day, capacity=4)
    ExperienceTimeSlot.objects.filter(pk=early.pk).update(booked_count=1)
    TimeSlotFactory(experience=experience, date=day, start_time=dt.time(8), is_available=False)
    TimeSlotFactory(experience=experience, date=day + dt.timedelta(days=1))

    r = api_client.get(
        f"/api/bookings/experiences/{experience.id}/slots", {"startDate": day.isoformat()}
    )
    assert r.status_code == 200
    rows = r.json()
    assert [s["id"] for s in rows] == [early.id, late.id]
    assert rows[0]["availableSpots"] == 3 and rows[0]["startTime"] == "10:00"
    assert rows[0]["date"] == f"{day.isoformat()}T00:00:00.000Z"

    end = (day + dt.timedelta(days=1)).isoformat()
    r = api_client.get(
        f"/api/bookings/experiences/{experience.id}/slots",
        {"startDate": day.isoformat(), "endDate": end},
    )
    assert len(r.json()) == 3


@pytest.mark.parametrize(
    "query", [{}, {"startDate": "2026-7-1"}, {"startDate": "2026-07-20", "endDate": "2026-07-19"}]
)
def test_slots_list_rejects_invalid_query(api_client, experience, query):
    r = api_client.get(f"/api/bookings/experiences/{experience.id}/slots", query)
    assert r.status_code == 400


def test_slots_list_of_unknown_experience_is_404(api_client):
    r = api_client.get("/api/bookings/experiences/nope/slots", {"startDate": "2026-07-20"})
    assert r.status_code == 404 and error(r) == "Experiencia no encontrada"


def test_host_creates_slots_with_default_capacity(host_client, experience):
    r = host_client.post(
        f"/api/bookings/experiences/{experience.id}/slots",
        {
            "slots": [
                {"date": "2027-07-20", "startTime": "10:00", "endTime": "12:00"},
                {"date": "2027-07-20", "startTime": "16:00", "endTime": "18:00", "capacity": 3},
            ]
        },
        format="json",
    )
    assert r.status_code == 201 and r.json() == {"created": 2}
    caps = sorted(experience.time_slots.values_list("capacity", flat=True))
    assert caps == [3, experience.max_capacity]


@pytest.mark.parametrize(
    "slot",
    [
        {"date": "2027-07-20", "startTime": "99:99", "endTime": "12:00"},
        {"date": "2027-07-20", "startTime": "24:00", "endTime": "12:00"},
        {"date": "2027-07-20", "startTime": "12:00", "endTime": "12:00"},
        {"date": "2027-07-20", "startTime": "13:00", "endTime": "12:00"},
        {"date": "2027-07-20", "startTime": "9:00", "endTime": "12:00"},
        {"date": "2027-07-20", "startTime": "10:00", "endTime": "12:00", "capacity": 0},
        {"date": "july", "startTime": "10:00", "endTime": "12:00"},
    ],
)
def test_slot_creation_validates_times(host_client, experience, slot):  # [F20]
    r = host_client.post(
        f"/api/bookings/experiences/{experience.id}/slots", {"slots": [slot]}, format="json"
    )
    assert r.status_code == 400
    assert not experience.time_slots.exists()


def test_slot_creation_rejects_duplicates(host_client, experience):
    s = {"date": "2027-07-20", "startTime": "10:00", "endTime": "12:00"}
    url = f"/api/bookings/experiences/{experience.id}/slots"
    assert host_client.post(url, {"slots": [s, s]}, format="json").status_code == 400
    assert host_client.post(url, {"slots": [s]}, format="json").status_code == 201
    assert host_client.post(url, {"slots": [s]}, format="json").status_code == 400
    assert host_client.post(url, {"slots": []}, format="json").status_code == 400
    assert experience.time_slots.count() == 1


def test_only_host_creates_slots(experience):
    r = client_for(UserFactory()).post(
        f"/api/bookings/experiences/{experience.id}/slots",
        {"slots": [{"date": "2027-07-20", "startTime": "10:00", "endTime": "12:00"}]},
        format="json",
    )
    assert r.status_code == 403 and error(r) == "No tienes permiso para crear horarios"


def test_slot_delete_rules(host_client, experience, slot):
    other = client_for(UserFactory())
    r = other.delete(f"/api/bookings/slots/{slot.id}")
    assert r.status_code == 403 and error(r) == "No tienes permiso para eliminar este horario"
    r = host_client.delete("/api/bookings/slots/slot_1_morning")
    assert r.status_code == 404 and error(r) == "Horario no encontrado"

    booked = TimeSlotFactory(experience=experience)
    BookingFactory(time_slot=booked, status=BookingStatus.CANCELLED)
    r = host_client.delete(f"/api/bookings/slots/{booked.id}")
    assert r.status_code == 400 and error(r) == "No puedes eliminar un horario con reservaciones"

    r = host_client.delete(f"/api/bookings/slots/{slot.id}")
    assert r.status_code == 200 and r.json() == {"message": "Horario eliminado"}
    assert not ExperienceTimeSlot.objects.filter(pk=slot.pk).exists()


# --- reviews -------------------------------------------------------------------------------
def test_review_needs_a_completed_booking(guest, guest_client, slot):
    url = f"/api/bookings/experiences/{slot.experience_id}/reviews"
    BookingFactory(user=guest, time_slot=slot, status=BookingStatus.CONFIRMED)
    r = guest_client.post(url, {"rating": 5}, format="json")
    assert r.status_code == 403
    assert error(r) == "Solo puedes reseñar experiencias que hayas completado"


def test_review_updates_rating_and_count_and_is_unique(guest, guest_client, slot):
    experience = slot.experience
    other = UserFactory()
    for u in (guest, other):
        BookingFactory(user=u, time_slot=slot, status=BookingStatus.COMPLETED)
    url = f"/api/bookings/experiences/{experience.id}/reviews"
    r = guest_client.post(url, {"rating": 5, "comment": "¡Increíble!"}, format="json")
    assert r.status_code == 201
    body = r.json()
    assert body["rating"] == 5 and body["user"]["id"] == guest.id
    assert client_for(other).post(url, {"rating": 2}, format="json").status_code == 201
    experience.refresh_from_db()
    assert (experience.rating, experience.review_count) == (3.5, 2)

    r = guest_client.post(url, {"rating": 4}, format="json")
    assert r.status_code == 400 and error(r) == "Ya has reseñado esta experiencia"


@pytest.mark.parametrize(
    "body",
    [{}, {"rating": 0}, {"rating": 6}, {"rating": 4.5}, {"rating": 5, "comment": "x" * 1001}],
)
def test_review_body_is_validated(guest_client, experience, body):
    url = f"/api/bookings/experiences/{experience.id}/reviews"
    assert guest_client.post(url, body, format="json").status_code == 400


def test_review_of_unknown_experience_is_404(guest_client):
    r = guest_client.post("/api/bookings/experiences/nope/reviews", {"rating": 5}, format="json")
    assert r.status_code == 404
