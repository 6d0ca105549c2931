"""Booking writes the Django admin makes: move to another slot, delete (docs: README,
"Operations"). Like the API's writes they change seats only through the version-checked
helpers of :mod:`experiences.services.bookings`, one retried transaction per booking,
so a slot's bookedCount stays the guests of its bookings that hold seats.

Adding a booking from the admin is :func:`~experiences.services.bookings.booking_create`
itself (every rule of the API applies); cancelling is ``bookings_cancel_by_staff``.
"""

from __future__ import annotations

from django.db import IntegrityError

from experiences import errors
from experiences.models import ACTIVE_STATUSES, Booking, BookingStatus
from experiences.services._locking import with_retries
from experiences.services.bookings import (
    _get_booking_locked,
    _lock_slot,
    _release_seats,
    _slot_started,
    _take_seats,
)
from guelaguetza.errors import Conflict, Invalid, NotFound
from guelaguetza.ids import possible_id

ONLY_ACTIVE_MOVE = "Solo una reservación activa puede cambiar de horario"


def booking_move_by_staff(*, booking_id: str, time_slot_id: str) -> Booking:
    """Move an active booking to another slot of its experience: its guests' seats are
    taken on the new slot (capacity checked) and given back on the old one, together."""

    def attempt() -> Booking:
        booking = _get_booking_locked(booking_id)
        if booking.time_slot_id == time_slot_id:
            return booking
        if booking.status not in ACTIVE_STATUSES:
            raise Invalid(ONLY_ACTIVE_MOVE)
        if not possible_id(time_slot_id):
            raise NotFound(errors.SLOT_NOT_FOUND)
        # Both slot rows locked in id order: two moves in opposite directions queue
        # instead of deadlocking.
        first, second = sorted([booking.time_slot_id, time_slot_id])
        locked = {slot_id: _lock_slot(slot_id) for slot_id in (first, second)}
        old, new = locked[booking.time_slot_id], locked[time_slot_id]
        if new is None:
            raise NotFound(errors.SLOT_NOT_FOUND)
        if new.experience_id != booking.experience_id:
            raise Invalid(errors.SLOT_MISMATCH)
        if not new.is_available or _slot_started(new):
            raise Invalid(errors.SLOT_UNAVAILABLE)
        available = new.capacity - new.booked_count
        if booking.guest_count > available:
            raise Invalid(f"Solo hay {available} lugares disponibles")
        holders = Booking.objects.filter(
            user_id=booking.user_id, time_slot=new, status__in=ACTIVE_STATUSES
        )
        if holders.exists():
            raise Conflict(errors.DUPLICATE_BOOKING)
        _take_seats(new, booking.guest_count)
        _release_seats(old, booking.guest_count)
        booking.time_slot = new
        try:
            booking.save(update_fields=["time_slot", "updated_at"])
        except IntegrityError as exc:  # the partial unique index, under a race
            raise Conflict(errors.DUPLICATE_BOOKING) from exc
        return booking

    return with_retries(attempt, hint=errors.BOOKING_HINT)


def bookings_delete_by_staff(*, booking_ids: list[str]) -> int:
    """Delete bookings; the seats of those still holding any go back to their slot."""
    deleted = 0
    for booking_id in booking_ids:

        def attempt(booking_id: str = booking_id) -> bool:
            booking = Booking.objects.select_for_update().filter(pk=booking_id).first()
            if booking is None:  # deleted meanwhile
                return False
            if booking.status != BookingStatus.CANCELLED:  # every other status holds seats
                _release_seats(_lock_slot(booking.time_slot_id), booking.guest_count)
            booking.delete()
            return True

        if with_retries(attempt, hint=errors.BOOKING_HINT):
            deleted += 1
    return deleted
