"""Cached reads of the experiences app: hits, misses, and freshness after every write
through the real receivers and on_commit (docs/cache.md#invalidation-map, [F17], [F18])."""

import datetime as dt

import pytest
from django.db.models.signals import post_delete, post_save

from experiences.models import Booking, Experience, ExperienceReview, ExperienceTimeSlot
from experiences.services import booking_create
from guelaguetza.cache import cache, keys
from tests.factories import BookingFactory, ExperienceFactory, TimeSlotFactory, UserFactory
from tests.helpers import book, client_for


def slots_url(slot) -> str:
    return f"/api/bookings/experiences/{slot.experience_id}/slots?startDate={slot.date}"


# --- hit / miss (plain db tests: reads outside any application transaction) ----------------
@pytest.mark.django_db
def test_detail_is_cached_under_its_key(api_client, experience, django_assert_num_queries):
    key = keys.experience_detail(experience_id=experience.id)
    assert cache.get(key) is None
    first = api_client.get(f"/api/bookings/experiences/{experience.id}").json()
    assert cache.get(key) == first
    with django_assert_num_queries(0):
        again = api_client.get(f"/api/bookings/experiences/{experience.id}").json()
    assert again == first
    assert 0 < cache.ttl(key) <= 132  # 120 s + jitter


@pytest.mark.django_db
def test_slots_are_cached_under_the_raw_date_strings(api_client, slot, django_assert_num_queries):
    day = slot.date.isoformat()
    key = keys.experience_slots(experience_id=slot.experience_id, start=day, end=day)
    with django_assert_num_queries(1):  # the slots; the experience exists since they do
        first = api_client.get(slots_url(slot)).json()
    assert cache.get(key) == first and first[0]["id"] == slot.id
    with django_assert_num_queries(0):
        assert api_client.get(slots_url(slot)).json() == first


@pytest.mark.django_db
def test_list_is_cached_per_filter_set(api_client, experience, django_assert_num_queries):
    query = {"category": "TALLER", "search": "Barro  NEGRO", "page": 1, "limit": 10}
    first = api_client.get("/api/bookings/experiences", query).json()
    assert first["pagination"]["total"] == 1
    key = keys.experiences_list(
        category="TALLER",
        min_price=None,
        max_price=None,
        date=None,
        q="Barro  NEGRO",
        page=1,
        limit=10,
    )
    assert str(key) == (
        "experiences:list:cat:TALLER:min:none:max:none:date:none:q:barro+negro:page:1:limit:10"
    )
    assert cache.get(key) == first
    with django_assert_num_queries(0):
        assert api_client.get("/api/bookings/experiences", query).json() == first
    # Another filter set is another key: a miss.
    with django_assert_num_queries(2):
        api_client.get("/api/bookings/experiences", {"category": "TOUR"})


@pytest.mark.django_db
def test_unknown_experience_is_not_cached(api_client):
    api_client.get("/api/bookings/experiences/nope")
    assert cache.get(keys.experience_detail(experience_id="nope")) is None


# --- freshness after writes (transaction=True: on_commit really runs) ----------------------
@pytest.mark.django_db(transaction=True)
def test_booking_refreshes_slots_detail_and_list_at_once(api_client):
    slot = TimeSlotFactory(capacity=3)
    detail = f"/api/bookings/experiences/{slot.experience_id}"
    assert api_client.get(slots_url(slot)).json()[0]["availableSpots"] == 3
    assert api_client.get(detail).json()["_count"]["bookings"] == 0
    assert api_client.get("/api/bookings/experiences").json()["experiences"][0]["_count"] == {
        "reviews": 0,
        "bookings": 0,
    }

    assert book(client_for(UserFactory()), slot, guests=2).status_code == 201

    row = api_client.get(slots_url(slot)).json()[0]
    assert (row["bookedCount"], row["availableSpots"], row["version"]) == (2, 1, 2)
    assert api_client.get(detail).json()["_count"]["bookings"] == 1
    listed = api_client.get("/api/bookings/experiences").json()["experiences"][0]
    assert listed["_count"]["bookings"] == 1


@pytest.mark.django_db(transaction=True)
def test_full_slot_disappears_from_the_list_right_after_the_last_booking(api_client):
    slot = TimeSlotFactory(capacity=1)
    assert len(api_client.get(slots_url(slot)).json()) == 1
    assert book(client_for(UserFactory()), slot).status_code == 201
    assert api_client.get(slots_url(slot)).json() == []


@pytest.mark.django_db(transaction=True)
def test_cancel_refreshes_slots(api_client):
    guest = UserFactory()
    slot = TimeSlotFactory(capacity=2)
    booking = booking_create(
        user=guest, experience_id=slot.experience_id, time_slot_id=slot.id, guest_count=2
    )
    assert api_client.get(slots_url(slot)).json() == []
    r = client_for(guest).post(f"/api/bookings/bookings/{booking.id}/cancel", {}, format="json")
    assert r.status_code == 200
    assert api_client.get(slots_url(slot)).json()[0]["availableSpots"] == 2


@pytest.mark.django_db(transaction=True)
def test_experience_create_update_delete_refresh_list_and_detail(api_client):
    host = UserFactory()
    client = client_for(host)
    assert api_client.get("/api/bookings/experiences").json()["experiences"] == []
    created = client.post(
        "/api/bookings/experiences",
        {
            "title": "Cata de mezcal",
            "description": "Seis mezcales de maguey silvestre.",
            "category": "DEGUSTACION",
            "price": 600,
            "duration": 90,
            "maxCapacity": 10,
            "location": "Santiago Matatlán",
        },
        format="json",
    ).json()
    listed = api_client.get("/api/bookings/experiences").json()["experiences"]
    assert [e["id"] for e in listed] == [created["id"]]  # [F18]

    detail = f"/api/bookings/experiences/{created['id']}"
    assert api_client.get(detail).json()["price"] == "600.00"
    client.put(detail, {"price": 650}, format="json")
    assert api_client.get(detail).json()["price"] == "650.00"
    assert api_client.get("/api/bookings/experiences").json()["experiences"][0]["price"] == (
        "650.00"
    )

    client.delete(detail)
    assert api_client.get(detail).json()["isActive"] is False
    assert api_client.get("/api/bookings/experiences").json()["experiences"] == []


@pytest.mark.django_db(transaction=True)
def test_slot_create_and_delete_refresh_the_slots_list(api_client):
    host = UserFactory()
    experience = ExperienceFactory(host=host)
    day = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    url = f"/api/bookings/experiences/{experience.id}/slots"
    assert api_client.get(url, {"startDate": day}).json() == []
    assert api_client.get("/api/bookings/experiences", {"date": day}).json()["experiences"] == []

    body = {"slots": [{"date": day, "startTime": "10:00", "endTime": "11:00"}]}
    assert client_for(host).post(url, body, format="json").status_code == 201
    rows = api_client.get(url, {"startDate": day}).json()
    assert len(rows) == 1  # [F18]
    assert len(api_client.get("/api/bookings/experiences", {"date": day}).json()["experiences"])

    client_for(host).delete(f"/api/bookings/slots/{rows[0]['id']}")
    assert api_client.get(url, {"startDate": day}).json() == []


@pytest.mark.django_db(transaction=True)
def test_review_refreshes_detail_rating_and_reviews(api_client):
    guest = UserFactory()
    slot = TimeSlotFactory()
    BookingFactory(user=guest, time_slot=slot, status="COMPLETED")
    detail = f"/api/bookings/experiences/{slot.experience_id}"
    before = api_client.get(detail).json()
    assert (before["rating"], before["reviewCount"], before["reviews"]) == (0.0, 0, [])
    api_client.get("/api/bookings/experiences")

    r = client_for(guest).post(f"{detail}/reviews", {"rating": 4}, format="json")
    assert r.status_code == 201

    after = api_client.get(detail).json()
    assert (after["rating"], after["reviewCount"], len(after["reviews"])) == (4.0, 1, 1)
    assert api_client.get("/api/bookings/experiences").json()["experiences"][0]["rating"] == 4.0


@pytest.mark.django_db(transaction=True)
def test_orm_edits_like_the_admins_go_through_the_receivers(api_client):
    slot = TimeSlotFactory(capacity=4)
    experience = slot.experience
    detail = f"/api/bookings/experiences/{experience.id}"
    api_client.get(detail)
    api_client.get(slots_url(slot))

    experience.title = "Nuevo título"
    experience.save()
    assert api_client.get(detail).json()["title"] == "Nuevo título"

    slot.capacity = 6
    slot.save()
    assert api_client.get(slots_url(slot)).json()[0]["capacity"] == 6

    BookingFactory(time_slot=slot)
    assert api_client.get(detail).json()["_count"]["bookings"] == 1


@pytest.mark.django_db(transaction=True)
def test_a_failed_booking_invalidates_nothing(api_client, redis_client):
    slot = TimeSlotFactory(capacity=1)
    day = slot.date.isoformat()
    api_client.get(slots_url(slot))
    key = keys.experience_slots(experience_id=slot.experience_id, start=day, end=day)
    cached = cache.get(key)
    assert book(client_for(UserFactory()), slot, guests=2).status_code == 400
    assert cache.get(key) == cached


# --- wiring --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "name"),
    [
        (Experience, "experience"),
        (ExperienceTimeSlot, "slot"),
        (Booking, "booking"),
        (ExperienceReview, "review"),
    ],
)
def test_receivers_are_connected_for_save_and_delete(model, name):
    for signal, verb in ((post_save, "save"), (post_delete, "delete")):
        uids = {key[0] for key, *_ in signal.receivers if key[1] == id(model)}
        assert f"guelaguetza.cache.dependencies._after_{verb}.{model._meta.label}" in uids


@pytest.mark.django_db
@pytest.mark.parametrize("suffix", ["%20", "%09"])
def test_id_variant_is_404_even_when_the_experience_is_cached(api_client, slot, suffix):
    # "<id> " normalises (stripped) to the real id in a key: it must not be served
    # the real experience's cached detail or slots, since no experience has that id.
    exp_id = slot.experience_id
    api_client.get(f"/api/bookings/experiences/{exp_id}")
    assert api_client.get(slots_url(slot)).status_code == 200

    variant = f"/api/bookings/experiences/{exp_id}{suffix}"
    assert api_client.get(variant).status_code == 404
    assert api_client.get(f"{variant}/slots?startDate={slot.date}").status_code == 404
