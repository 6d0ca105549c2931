"""Every bookings-admin write a service can refuse answers with the service's message as
an admin error message, never a 500, and changes nothing: neither the rows nor the
admin's log (guelaguetza/admin_errors.py)."""

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages

from experiences import services
from experiences.errors import CONCURRENCY_MESSAGE
from experiences.models import Booking, BookingStatus
from experiences.services import _locking, booking_create
from tests.factories import TimeSlotFactory

pytestmark = pytest.mark.django_db
URL = "/admin/experiences/booking/"


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def booking(guest, slot):
    return booking_create(
        user=guest, experience_id=slot.experience_id, time_slot_id=slot.id, guest_count=2
    )


@pytest.fixture
def slot_rows_keep_changing(monkeypatch):
    """Every conditional seat UPDATE loses to another writer: with_retries gives up."""

    def lose(*args, **kwargs):
        raise _locking.VersionConflict

    monkeypatch.setattr(_locking, "RETRY_DELAYS", (0, 0))
    monkeypatch.setattr("experiences.services.bookings._release_seats", lose)
    monkeypatch.setattr("experiences.services.staff._release_seats", lose)


def assert_untouched(booking, status=BookingStatus.PENDING) -> None:
    booking.refresh_from_db()
    booking.time_slot.refresh_from_db()
    assert (booking.status, booking.time_slot.booked_count) == (status, 2)


def test_cancel_action_refused_by_a_concurrent_update_shows_the_message(
    admin_client, booking, slot_rows_keep_changing
):
    r = admin_client.post(
        URL, {"action": "cancel_bookings", "_selected_action": [booking.pk]}, follow=True
    )
    assert r.status_code == 200
    assert messages_of(r) == [("error", CONCURRENCY_MESSAGE)]
    assert_untouched(booking)


def test_cancel_action_is_all_or_nothing_when_one_booking_is_refused(
    admin_client, booking, guest, monkeypatch
):
    other = booking_create(
        user=guest,
        experience_id=booking.experience_id,
        time_slot_id=TimeSlotFactory(experience=booking.experience).id,
    )
    cancel_one = services.bookings.__dict__["_cancel_locked"]

    def refuse_the_second(row):
        if row.pk == max(booking.pk, other.pk):
            raise _locking.VersionConflict
        cancel_one(row)

    monkeypatch.setattr(_locking, "RETRY_DELAYS", (0, 0))
    monkeypatch.setattr("experiences.services.bookings._cancel_locked", refuse_the_second)
    r = admin_client.post(
        URL,
        {"action": "cancel_bookings", "_selected_action": sorted([booking.pk, other.pk])},
        follow=True,
    )
    assert messages_of(r) == [("error", CONCURRENCY_MESSAGE)]
    assert not Booking.objects.filter(status=BookingStatus.CANCELLED).exists()


def test_delete_refused_by_a_concurrent_update_shows_the_message_and_logs_nothing(
    admin_client, booking, slot_rows_keep_changing
):
    r = admin_client.post(f"{URL}{booking.pk}/delete/", {"post": "yes"}, follow=True)
    assert r.status_code == 200
    assert messages_of(r) == [("error", CONCURRENCY_MESSAGE)]
    assert Booking.objects.filter(pk=booking.pk).exists()
    assert_untouched(booking)
    assert not LogEntry.objects.exists()


def test_bulk_delete_refused_by_a_concurrent_update_shows_the_message_and_logs_nothing(
    admin_client, booking, slot_rows_keep_changing
):
    r = admin_client.post(
        URL,
        {"action": "delete_selected", "_selected_action": [booking.pk], "post": "yes"},
        follow=True,
    )
    assert r.status_code == 200
    assert messages_of(r) == [("error", CONCURRENCY_MESSAGE)]
    assert_untouched(booking)
    assert not LogEntry.objects.exists()


def test_slot_move_refused_shows_the_message_and_logs_no_change(admin_client, booking, slot):
    started = TimeSlotFactory(experience=slot.experience, date=dt.date(2020, 1, 1))
    r = admin_client.post(
        f"{URL}{booking.pk}/change/", {"time_slot": started.pk, "special_requests": "x"}
    )
    assert r.status_code == 302 and r["Location"] == f"{URL}{booking.pk}/change/"
    assert messages_of(r) == [("error", "Este horario ya no está disponible")]
    booking.refresh_from_db()
    assert (booking.time_slot_id, booking.special_requests) == (slot.pk, None)
    assert not LogEntry.objects.exists()


def test_add_refused_by_a_model_validation_error_shows_its_message(
    admin_client, guest, slot, monkeypatch
):
    def full_clean_fails(**kwargs):
        slot.end_time = slot.start_time
        slot.full_clean(exclude=["experience"])

    monkeypatch.setattr(services, "booking_create", full_clean_fails)
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
    assert messages_of(r) == [("error", "endTime debe ser posterior a startTime")]
    assert not Booking.objects.exists() and not LogEntry.objects.exists()
