"""The bookings admin keeps seat counts (issue 15, deliverable 2): add, slot change,
cancel and delete go through the booking services; a refused write changes nothing and
answers the admin page with the service's message, never a 500."""

import pytest
from django.contrib.messages import get_messages
from django.db.models import Sum

from experiences.models import Booking, ExperienceTimeSlot
from experiences.services import booking_create
from tests.factories import ExperienceFactory, TimeSlotFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = "/admin/experiences/booking/"


def assert_seats_match_bookings() -> None:
    """The invariant: each slot's bookedCount is the guests of its non-cancelled bookings."""
    for slot in ExperienceTimeSlot.objects.all():
        held = slot.bookings.exclude(status="CANCELLED").aggregate(n=Sum("guest_count"))["n"]
        assert slot.booked_count == (held or 0), slot
        assert slot.booked_count <= slot.capacity


def booked(slot) -> int:
    slot.refresh_from_db()
    return slot.booked_count


def fill(slot, guests: int = 1) -> list[Booking]:
    return [
        booking_create(user=UserFactory(), experience_id=slot.experience_id, time_slot_id=slot.id)
        for _ in range(guests)
    ]


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_add_booking_goes_through_the_service(admin_client, guest, slot):
    r = admin_client.post(
        f"{URL}add/",
        {
            "user": guest.pk,
            "experience": slot.experience_id,
            "time_slot": slot.pk,
            "guest_count": 2,
            "special_requests": "Vegetariano",
        },
    )
    assert r.status_code == 302
    booking = Booking.objects.get()
    assert r["Location"] == f"{URL}"
    assert (booking.user, booking.time_slot_id, booking.status) == (guest, slot.pk, "PENDING")
    assert booking.total_price == slot.experience.price * 2
    assert booked(slot) == 2
    assert_seats_match_bookings()


def test_add_booking_on_a_full_slot_is_refused_with_the_message(admin_client, guest, slot):
    fill(slot, 5)
    r = admin_client.post(
        f"{URL}add/",
        {
            "user": guest.pk,
            "experience": slot.experience_id,
            "time_slot": slot.pk,
            "guest_count": 1,
        },
        follow=True,
    )
    assert r.status_code == 200
    assert "Este horario ya no está disponible" in messages_of(r)
    assert not Booking.objects.filter(user=guest).exists()
    assert booked(slot) == 5
    assert_seats_match_bookings()


def test_add_booking_twice_for_one_user_and_slot_is_refused(admin_client, guest, slot):
    booking_create(user=guest, experience_id=slot.experience_id, time_slot_id=slot.id)
    data = {"user": guest.pk, "experience": slot.experience_id, "time_slot": slot.pk}
    r = admin_client.post(f"{URL}add/", {**data, "guest_count": 1}, follow=True)
    assert r.status_code == 200
    assert Booking.objects.filter(user=guest).count() == 1
    assert booked(slot) == 1


def test_moving_a_booking_to_another_slot_moves_its_seats(admin_client, guest, slot):
    other = TimeSlotFactory(experience=slot.experience, capacity=5)
    booking = booking_create(
        user=guest, experience_id=slot.experience_id, time_slot_id=slot.id, guest_count=3
    )
    r = admin_client.post(
        f"{URL}{booking.pk}/change/", {"time_slot": other.pk, "special_requests": "Silla"}
    )
    assert r.status_code == 302
    booking.refresh_from_db()
    assert (booking.time_slot_id, booking.special_requests) == (other.pk, "Silla")
    assert (booked(slot), booked(other)) == (0, 3)
    assert_seats_match_bookings()


def test_moving_a_booking_onto_a_full_slot_is_refused(admin_client, guest, slot):
    # The measurement: 6 active bookings for 5 counted seats. Now refused.
    full = TimeSlotFactory(experience=slot.experience, capacity=5)
    fill(full, 5)
    booking = booking_create(user=guest, experience_id=slot.experience_id, time_slot_id=slot.id)
    r = admin_client.post(
        f"{URL}{booking.pk}/change/", {"time_slot": full.pk, "special_requests": "x"}, follow=True
    )
    assert r.status_code == 200
    assert "Este horario ya no está disponible" in messages_of(r)
    booking.refresh_from_db()
    assert (booking.time_slot_id, booking.special_requests) == (slot.pk, None)
    assert (booked(slot), booked(full)) == (1, 5)
    assert full.bookings.exclude(status="CANCELLED").count() == 5
    assert_seats_match_bookings()


def test_moving_more_guests_than_the_seats_left_is_refused(admin_client, guest, slot):
    other = TimeSlotFactory(experience=slot.experience, capacity=5)
    fill(other, 4)
    booking = booking_create(
        user=guest, experience_id=slot.experience_id, time_slot_id=slot.id, guest_count=2
    )
    r = admin_client.post(f"{URL}{booking.pk}/change/", {"time_slot": other.pk}, follow=True)
    assert "Solo hay 1 lugares disponibles" in messages_of(r)
    assert (booked(slot), booked(other)) == (2, 4)


def test_moving_a_booking_to_a_slot_of_another_experience_is_refused(admin_client, guest, slot):
    foreign = TimeSlotFactory(experience=ExperienceFactory(), capacity=5)
    booking = booking_create(user=guest, experience_id=slot.experience_id, time_slot_id=slot.id)
    r = admin_client.post(f"{URL}{booking.pk}/change/", {"time_slot": foreign.pk}, follow=True)
    assert "El horario no corresponde a esta experiencia" in messages_of(r)
    booking.refresh_from_db()
    assert booking.time_slot_id == slot.pk
    assert (booked(slot), booked(foreign)) == (1, 0)


def test_a_cancelled_booking_cannot_be_moved(admin_client, guest, slot):
    other = TimeSlotFactory(experience=slot.experience, capacity=5)
    booking = booking_create(user=guest, experience_id=slot.experience_id, time_slot_id=slot.id)
    admin_client.post(URL, {"action": "cancel_bookings", "_selected_action": [booking.pk]})
    r = admin_client.post(f"{URL}{booking.pk}/change/", {"time_slot": other.pk}, follow=True)
    assert "Solo una reservación activa puede cambiar de horario" in messages_of(r)
    assert (booked(slot), booked(other)) == (0, 0)
    assert_seats_match_bookings()


def test_the_change_form_cannot_edit_user_experience_status_or_guests(admin_client, guest, slot):
    booking = booking_create(user=guest, experience_id=slot.experience_id, time_slot_id=slot.id)
    intruder, elsewhere = UserFactory(), ExperienceFactory()
    r = admin_client.post(
        f"{URL}{booking.pk}/change/",
        {
            "time_slot": slot.pk,
            "user": intruder.pk,
            "experience": elsewhere.pk,
            "status": "CANCELLED",
            "guest_count": 5,
            "special_requests": "Llegamos tarde",
        },
    )
    assert r.status_code == 302
    booking.refresh_from_db()
    assert (booking.user, booking.experience_id) == (guest, slot.experience_id)
    assert (booking.status, booking.guest_count) == ("PENDING", 1)
    assert booking.special_requests == "Llegamos tarde"
    assert booked(slot) == 1


def test_deleting_a_booking_gives_its_seats_back(admin_client, guest, slot):
    booking = booking_create(
        user=guest, experience_id=slot.experience_id, time_slot_id=slot.id, guest_count=2
    )
    fill(slot, 1)
    r = admin_client.post(f"{URL}{booking.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302
    assert not Booking.objects.filter(pk=booking.pk).exists()
    assert booked(slot) == 1
    assert_seats_match_bookings()


def test_deleting_a_cancelled_booking_leaves_the_seats_alone(admin_client, guest, slot):
    booking = booking_create(user=guest, experience_id=slot.experience_id, time_slot_id=slot.id)
    admin_client.post(URL, {"action": "cancel_bookings", "_selected_action": [booking.pk]})
    fill(slot, 2)
    r = admin_client.post(f"{URL}{booking.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302
    assert booked(slot) == 2
    assert_seats_match_bookings()


def test_bulk_delete_gives_every_booking_its_seats_back(admin_client, slot):
    other = TimeSlotFactory(experience=slot.experience, capacity=5)
    doomed = fill(slot, 3)[:2] + fill(other, 2)[:1]
    r = admin_client.post(
        URL,
        {"action": "delete_selected", "_selected_action": [b.pk for b in doomed], "post": "yes"},
    )
    assert r.status_code == 302
    assert (booked(slot), booked(other)) == (1, 1)
    assert Booking.objects.count() == 2
    assert_seats_match_bookings()


def test_add_and_change_pages_render(admin_client, guest, slot):
    booking = booking_create(user=guest, experience_id=slot.experience_id, time_slot_id=slot.id)
    assert admin_client.get(f"{URL}add/").status_code == 200
    assert admin_client.get(f"{URL}{booking.pk}/change/").status_code == 200
    assert admin_client.get(f"{URL}{booking.pk}/delete/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_admin_move_and_delete_refresh_the_cached_slots(admin_client, api_client, guest):
    slot = TimeSlotFactory(capacity=5)
    other = TimeSlotFactory(experience=slot.experience, date=slot.date, start_time="15:00",
                            end_time="17:00", capacity=5)  # fmt: skip
    booking = booking_create(
        user=guest, experience_id=slot.experience_id, time_slot_id=slot.id, guest_count=2
    )
    url = f"/api/bookings/experiences/{slot.experience_id}/slots?startDate={slot.date}"

    def spots() -> dict:
        return {row["id"]: row["availableSpots"] for row in api_client.get(url).json()}

    assert spots() == {slot.pk: 3, other.pk: 5}  # now cached
    admin_client.post(f"{URL}{booking.pk}/change/", {"time_slot": other.pk})
    assert spots() == {slot.pk: 5, other.pk: 3}
    admin_client.post(f"{URL}{booking.pk}/delete/", {"post": "yes"})
    assert spots() == {slot.pk: 5, other.pk: 5}
