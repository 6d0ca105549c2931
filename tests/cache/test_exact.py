"""Exact invalidation: the write clears what shows what it changed, and nothing else.

The three staleness bugs of issue 12 as named regressions, entity-exact lists, and the
stale-set fence for recorded dependencies.
"""

import threading

import pytest
from django.db import connections, transaction
from rest_framework.test import APIClient

from accounts.services import profile_update
from events import services as event_services
from experiences import services as exp_services
from experiences.models import Booking, ExperienceReview
from gamification import services as gam_services
from guelaguetza.cache import cache, keys
from tests.factories import (
    EventFactory,
    ExperienceFactory,
    TimeSlotFactory,
    UserFactory,
    UserStatsFactory,
)

WAIT = 10


def experiences_page_key(page: int, limit: int):
    return keys.experiences_list(
        category=None, min_price=None, max_price=None, date=None, q=None, page=page, limit=limit
    )


def book(experience, slot, user=None):
    return exp_services.booking_create(
        user=user or UserFactory(), experience_id=experience.id, time_slot_id=slot.id
    )


# -- the three regressions ---------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_host_rename_refreshes_the_experience_detail_and_the_list(api_client):
    host = UserFactory(nombre="Antes")
    experience = ExperienceFactory(host=host)
    detail = f"/api/bookings/experiences/{experience.id}"
    for _ in range(2):
        api_client.get(detail)
        api_client.get("/api/bookings/experiences")
    profile_update(user=host, data={"nombre": "Después"})
    assert api_client.get(detail).json()["host"]["nombre"] == "Después"
    rows = api_client.get("/api/bookings/experiences").json()["experiences"]
    assert rows[0]["host"]["nombre"] == "Después"


@pytest.mark.django_db(transaction=True)
def test_reviewer_rename_refreshes_the_details_reviews(api_client):
    experience = ExperienceFactory()
    reviewer = UserFactory(nombre="Antes")
    ExperienceReview.objects.create(experience=experience, user=reviewer, rating=5)
    detail = f"/api/bookings/experiences/{experience.id}"
    api_client.get(detail)
    profile_update(user=reviewer, data={"nombre": "Después"})
    assert api_client.get(detail).json()["reviews"][0]["user"]["nombre"] == "Después"


@pytest.mark.django_db(transaction=True)
def test_a_user_passed_by_a_mover_reads_a_fresh_rank(api_client):
    passed = UserStatsFactory(xp=100)
    mover = UserStatsFactory(xp=50)
    far_below = UserStatsFactory(xp=10)
    url = "/api/gamification/users/{}/stats"
    for stats in (passed, far_below):
        api_client.get(url.format(stats.user_id))
    assert api_client.get(url.format(passed.user_id)).json()["data"]["rank"] == 1

    gam_services.xp_add(user=mover.user, amount=60, reason="test")  # 50 -> 110
    assert api_client.get(url.format(passed.user_id)).json()["data"]["rank"] == 2
    # Below the move's range: its cached rank was right and stays cached.
    assert cache.get(keys.user_rank(user_id=far_below.user_id)) == 3
    board = api_client.get("/api/gamification/leaderboard").json()["data"]["entries"]
    assert [e["userId"] for e in board[:2]] == [mover.user_id, passed.user_id]


# -- entity-exact lists and pages ----------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_booking_clears_the_pages_showing_its_experience_and_no_other(api_client):
    older = ExperienceFactory()
    newer = ExperienceFactory()  # the list is newest first: page 1 shows newer only
    slot = TimeSlotFactory(experience=older)
    first, second = experiences_page_key(1, 1), experiences_page_key(2, 1)
    for page in (1, 2):
        api_client.get(f"/api/bookings/experiences?page={page}&limit=1")
    other_detail = keys.experience_detail(experience_id=newer.id)
    api_client.get(f"/api/bookings/experiences/{newer.id}")

    book(older, slot)
    assert cache.get(first) is not None, "a page without the booked experience stays"
    assert cache.get(other_detail) is not None
    assert cache.get(second) is None
    page = api_client.get("/api/bookings/experiences?page=2&limit=1").json()
    assert page["experiences"][0]["_count"]["bookings"] == 1


@pytest.mark.django_db(transaction=True)
def test_an_rsvp_clears_its_event_and_the_pages_showing_it_only(api_client):
    early, late = EventFactory(), EventFactory()
    user = UserFactory()
    pages = {
        n: keys.events_list(category=None, start=None, end=None, page=n, limit=1) for n in (1, 2)
    }
    for n in pages:
        api_client.get(f"/api/events?page={n}&limit=1")
    api_client.get(f"/api/events/{early.id}")
    api_client.get(f"/api/events/{late.id}")

    event_services.event_rsvp_create(user=user, event_id=late.id)
    assert cache.get(pages[1]) is not None and cache.get(keys.event_detail(event_id=early.id))
    assert cache.get(pages[2]) is None
    assert cache.get(keys.event_detail(event_id=late.id), default="gone") == "gone"
    assert (
        api_client.get("/api/events?page=2&limit=1").json()["data"]["events"][0]["rsvpCount"] == 1
    )


@pytest.mark.django_db(transaction=True)
def test_anyones_rsvp_refreshes_every_attendees_my_rsvps():
    event = EventFactory()
    attendee, newcomer = UserFactory(), UserFactory()
    event_services.event_rsvp_create(user=attendee, event_id=event.id)
    client = APIClient()
    client.force_authenticate(attendee)
    assert client.get("/api/events/my-rsvps").json()["data"]["events"][0]["rsvpCount"] == 1
    event_services.event_rsvp_create(user=newcomer, event_id=event.id)
    assert client.get("/api/events/my-rsvps").json()["data"]["events"][0]["rsvpCount"] == 2


@pytest.mark.django_db(transaction=True)
def test_a_booking_that_fills_a_slot_clears_the_date_filter_lists(api_client):
    experience = ExperienceFactory(max_capacity=1)
    slot = TimeSlotFactory(experience=experience, capacity=1)
    url = f"/api/bookings/experiences?date={slot.date.isoformat()}"
    assert len(api_client.get(url).json()["experiences"]) == 1
    book(experience, slot)
    assert api_client.get(url).json()["experiences"] == []


@pytest.mark.django_db(transaction=True)
def test_a_booking_status_change_clears_nothing(api_client):
    experience = ExperienceFactory()
    booking = book(experience, TimeSlotFactory(experience=experience))
    api_client.get(f"/api/bookings/experiences/{experience.id}")
    Booking.objects.filter(pk=booking.pk).get().save(update_fields=["status"])
    assert cache.get(keys.experience_detail(experience_id=experience.id)) is not None


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_profile_edit_clears_nothing(api_client):
    host = UserFactory(nombre="Antes")
    experience = ExperienceFactory(host=host)
    api_client.get(f"/api/bookings/experiences/{experience.id}")
    with pytest.raises(RuntimeError), transaction.atomic():
        profile_update(user=host, data={"nombre": "Después"})
        raise RuntimeError
    assert cache.get(keys.experience_detail(experience_id=experience.id)) is not None


# -- the stale-set fence holds for recorded dependencies ---------------------------------
@pytest.mark.django_db(transaction=True)
def test_stale_set_race_on_a_recorded_dependency_leaves_the_next_read_fresh():
    """A list loader records experience x1, reads its count, is descheduled; a booking
    on x1 commits and clears ``experience:x1``; then the loader stores. Redis must see
    the recorded generation has moved: the late value is dead on arrival."""
    key = experiences_page_key(1, 10)
    db = {"count": 0}
    loaded, proceed = threading.Event(), threading.Event()
    errors = []

    def loader():
        cache.depends_on("experience:x1", "experience:x1:row")
        snapshot = {"count": db["count"]}
        loaded.set()
        assert proceed.wait(WAIT)
        return snapshot

    def reader():
        try:
            assert cache.wrap(key, loader) == {"count": 0}
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=reader)
    thread.start()
    assert loaded.wait(WAIT)
    with transaction.atomic():
        db["count"] = 1
        cache.cascade("seats_changed", experience_id="x1")
    proceed.set()
    thread.join(WAIT)
    assert not errors
    assert cache.get(key) is None
    assert cache.wrap(key, lambda: {"count": db["count"]}) == {"count": 1}


@pytest.mark.django_db(transaction=True)
def test_a_recorded_dependency_of_another_entity_keeps_the_value():
    key = experiences_page_key(1, 10)

    def loader():
        cache.depends_on("experience:x1", "experience:x1:row")
        return {"v": 1}

    cache.wrap(key, loader)
    cache.cascade("seats_changed", experience_id="x2")
    assert cache.get(key) == {"v": 1}
    cache.invalidate("experience:x1:row:*")
    assert cache.get(key) is None
