"""Completion XP, the expiry command, seed_demo's experiences step, admin, metrics."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from prometheus_client import REGISTRY

from experiences import seed, services
from experiences.models import (
    Booking,
    BookingStatus,
    Experience,
    ExperienceCategory,
    ExperienceTimeSlot,
)
from experiences.services import booking_create
from guelaguetza.festival import festival_year
from tests.factories import BookingFactory, ExperienceFactory, TimeSlotFactory, UserFactory
from tests.helpers import book, client_for


# --- complete: +50 XP and badges through the gamification service [F6] ---------------------
@pytest.mark.django_db(transaction=True)
def test_complete_awards_50_xp_and_the_first_booking_badge_after_commit(badge_catalogue):
    from gamification.models import UserBadge, UserStats

    guest, host = UserFactory(), UserFactory()
    slot = TimeSlotFactory(experience__host=host)
    booking = booking_create(user=guest, experience_id=slot.experience_id, time_slot_id=slot.id)
    client_for(guest).post(f"/api/bookings/bookings/{booking.id}/confirm", {}, format="json")
    stats_url = "/api/gamification/me/stats"
    assert client_for(guest).get(stats_url).json()["data"]["xp"] == 0  # now cached

    r = client_for(host).post(f"/api/bookings/bookings/{booking.id}/complete", {}, format="json")
    assert r.status_code == 200

    codes = set(UserBadge.objects.filter(user=guest).values_list("badge__code", flat=True))
    assert codes == {"FIRST_BOOKING"}
    # 50 for the completion + the badge's own xpReward (50).
    assert UserStats.objects.get(user=guest).xp == 100
    assert client_for(guest).get(stats_url).json()["data"]["xp"] == 100  # cache cleared


@pytest.mark.django_db(transaction=True)
def test_badge_failure_after_completion_keeps_the_completion_and_its_xp(monkeypatch):
    import gamification.services
    from gamification.models import UserStats

    def broken(*, user):
        raise RuntimeError("badge store down")

    monkeypatch.setattr(gamification.services, "badges_evaluate", broken)
    guest, host = UserFactory(), UserFactory()
    booking = BookingFactory(
        user=guest, time_slot=TimeSlotFactory(experience__host=host), status="CONFIRMED"
    )

    r = client_for(host).post(f"/api/bookings/bookings/{booking.id}/complete", {}, format="json")

    assert r.status_code == 200
    assert Booking.objects.get(pk=booking.id).status == BookingStatus.COMPLETED
    assert UserStats.objects.get(user=guest).xp == 50


@pytest.mark.django_db(transaction=True)
def test_review_runs_the_badge_evaluation(badge_catalogue):
    from gamification.models import UserBadge

    guest = UserFactory()
    slot = TimeSlotFactory()
    BookingFactory(user=guest, time_slot=slot, status=BookingStatus.COMPLETED)
    r = client_for(guest).post(
        f"/api/bookings/experiences/{slot.experience_id}/reviews", {"rating": 5}, format="json"
    )
    assert r.status_code == 201
    codes = set(UserBadge.objects.filter(user=guest).values_list("badge__code", flat=True))
    assert "FIRST_REVIEW" in codes


# --- expire_pending_bookings -------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_expire_pending_bookings_cancels_stale_ones_and_restores_seats(api_client):
    slot = TimeSlotFactory(capacity=6)
    users = UserFactory.create_batch(4)
    made = [
        booking_create(
            user=u, experience_id=slot.experience_id, time_slot_id=slot.id, guest_count=1
        )
        for u in users
    ]
    stale, failed, fresh, pending = made
    old = timezone.now() - dt.timedelta(minutes=45)
    Booking.objects.filter(pk=stale.pk).update(status="PENDING_PAYMENT", updated_at=old)
    Booking.objects.filter(pk=failed.pk).update(status="PAYMENT_FAILED", updated_at=old)
    Booking.objects.filter(pk=fresh.pk).update(status="PENDING_PAYMENT")
    Booking.objects.filter(pk=pending.pk).update(updated_at=old)  # PENDING is never expired
    url = f"/api/bookings/experiences/{slot.experience_id}/slots?startDate={slot.date}"
    assert api_client.get(url).json()[0]["bookedCount"] == 4

    out = io.StringIO()
    call_command("expire_pending_bookings", "--older-than", "30", stdout=out)

    assert "expired 2" in out.getvalue()
    statuses = dict(Booking.objects.values_list("pk", "status"))
    assert statuses[stale.pk] == statuses[failed.pk] == "CANCELLED"
    assert (statuses[fresh.pk], statuses[pending.pk]) == ("PENDING_PAYMENT", "PENDING")
    slot.refresh_from_db()
    assert (slot.booked_count, slot.version) == (2, 7)
    assert api_client.get(url).json()[0]["bookedCount"] == 2  # invalidated explicitly

    call_command("expire_pending_bookings", stdout=out)
    assert "expired 0" in out.getvalue()


@pytest.mark.django_db
def test_expire_command_forgets_old_idempotency_keys(guest_client, slot):
    from experiences.models import BookingIdempotencyKey

    assert book(guest_client, slot, HTTP_IDEMPOTENCY_KEY="old").status_code == 201
    assert book(guest_client, slot, guests=2, HTTP_IDEMPOTENCY_KEY="new").status_code == 409
    BookingIdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    out = io.StringIO()
    call_command("expire_pending_bookings", stdout=out)
    assert "purged 1" in out.getvalue()
    assert not BookingIdempotencyKey.objects.exists()


# --- seed ----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_seed_covers_every_category_and_is_idempotent():
    demo_host = UserFactory(email=seed.DEMO_HOST)
    out = io.StringIO()
    seed.run(options={"experiences": 12, "festival_year": 2027}, stdout=out)
    assert Experience.objects.count() == 12
    assert set(Experience.objects.values_list("category", flat=True)) == set(
        ExperienceCategory.values
    )
    assert Experience.objects.filter(host=demo_host).count() >= 6
    slots = ExperienceTimeSlot.objects.count()
    dates = ExperienceTimeSlot.objects.values_list("date", flat=True)
    assert slots and {(d.year, d.month) for d in dates} == {(2027, 7)}

    seed.run(options={"experiences": 12, "festival_year": 2027}, stdout=out)
    assert Experience.objects.count() == 12
    assert ExperienceTimeSlot.objects.count() == slots
    seed.run(options={"experiences": 15, "festival_year": 2027}, stdout=out)
    assert Experience.objects.count() == 15


def test_seed_picks_the_next_festival_that_has_not_passed():
    assert festival_year(dt.date(2026, 5, 1)) == 2026
    assert festival_year(dt.date(2026, 7, 31)) == 2026
    assert festival_year(dt.date(2026, 11, 27)) == 2027


@pytest.mark.django_db(transaction=True)
def test_seed_invalidates_the_lists(api_client):
    UserFactory(email=seed.DEMO_HOST)
    assert api_client.get("/api/bookings/experiences").json()["pagination"]["total"] == 0
    seed.run(options={"experiences": 5}, stdout=io.StringIO())
    assert api_client.get("/api/bookings/experiences").json()["pagination"]["total"] == 5


# --- admin ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_admin_pages_load_with_search_and_filters(admin_client, slot):
    booking = BookingFactory(time_slot=slot)
    pages = [
        "/admin/experiences/experience/?q=barro&is_active__exact=1",
        f"/admin/experiences/experience/{slot.experience_id}/change/",
        f"/admin/experiences/booking/?q={booking.user.email}&status__exact=PENDING",
        "/admin/experiences/experiencereview/",
        "/admin/experiences/experiencetimeslot/",
    ]
    for page in pages:
        assert admin_client.get(page).status_code == 200, page
    change = admin_client.get(f"/admin/experiences/experience/{slot.experience_id}/change/")
    assert f"{slot.booked_count}/{slot.capacity}" in change.content.decode()


@pytest.mark.django_db
def test_a_full_save_of_a_stale_slot_never_overwrites_booked_count(guest, slot):
    stale = ExperienceTimeSlot.objects.get(pk=slot.pk)
    booking_create(user=guest, experience_id=slot.experience_id, time_slot_id=slot.id)
    stale.capacity = 7
    stale.save()  # what an admin edit does
    slot.refresh_from_db()
    assert (slot.capacity, slot.booked_count, slot.version) == (7, 1, 2)


# --- metrics -------------------------------------------------------------------------------
def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.django_db
def test_booking_outcomes_are_counted(guest_client, slot):
    created = sample("guelaguetza_bookings_created_total", status="pending")
    failed = sample("guelaguetza_bookings_created_total", status="failed")
    conflict = sample("guelaguetza_bookings_created_total", status="conflict")
    durations = sample("guelaguetza_booking_creation_duration_seconds_count")

    assert book(guest_client, slot).status_code == 201
    assert book(guest_client, slot).status_code == 409  # duplicate
    assert book(guest_client, slot, guests=50).status_code == 400

    assert sample("guelaguetza_bookings_created_total", status="pending") == created + 1
    assert sample("guelaguetza_bookings_created_total", status="conflict") == conflict + 1
    assert sample("guelaguetza_bookings_created_total", status="failed") == failed + 1
    assert sample("guelaguetza_booking_creation_duration_seconds_count") == durations + 3


@pytest.mark.django_db
def test_admin_cancel_action_restores_seats(admin_client, guest, slot):
    booking = booking_create(
        user=guest, experience_id=slot.experience_id, time_slot_id=slot.id, guest_count=2
    )
    r = admin_client.post(
        "/admin/experiences/booking/",
        {"action": "cancel_bookings", "_selected_action": [booking.pk]},
    )
    assert r.status_code == 302
    booking.refresh_from_db()
    slot.refresh_from_db()
    assert booking.status == "CANCELLED"
    assert (slot.booked_count, slot.version) == (0, 3)


@pytest.mark.django_db
def test_admin_review_delete_recomputes_the_rating(admin_client, experience):
    from experiences.models import ExperienceReview

    for rating in (5, 1):
        ExperienceReview.objects.create(user=UserFactory(), experience=experience, rating=rating)
    low = ExperienceReview.objects.get(rating=1)
    r = admin_client.post(f"/admin/experiences/experiencereview/{low.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302
    experience.refresh_from_db()
    assert (experience.rating, experience.review_count) == (5.0, 1)


@pytest.mark.django_db(transaction=True)
def test_admin_moving_a_review_recomputes_and_refreshes_both_experiences(admin_client):
    from experiences.models import ExperienceReview

    old, new = ExperienceFactory(), ExperienceFactory()
    review = ExperienceReview.objects.create(user=UserFactory(), experience=old, rating=4)
    services.reviews_changed_by_staff(experience_ids={old.pk})
    assert admin_client.get(f"/api/bookings/experiences/{old.pk}").json()["reviewCount"] == 1

    r = admin_client.post(
        f"/admin/experiences/experiencereview/{review.pk}/change/",
        {"user": review.user_id, "experience": new.pk, "rating": 4, "comment": ""},
    )

    assert r.status_code == 302
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.rating, old.review_count, new.rating, new.review_count) == (0, 0, 4.0, 1)
    detail = admin_client.get(f"/api/bookings/experiences/{old.pk}").json()
    assert (detail["reviewCount"], detail["reviews"]) == (0, [])


@pytest.mark.django_db
def test_deleting_an_experience_with_bookings_deletes_its_slots_and_bookings(slot):
    BookingFactory(time_slot=slot)
    slot.experience.delete()
    assert not ExperienceTimeSlot.objects.exists() and not Booking.objects.exists()
