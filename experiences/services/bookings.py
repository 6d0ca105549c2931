"""Booking writes: create, confirm, cancel, complete, expire.

The contract: docs/api.md#bookings-routes and docs/api.md#booking-rules.

Seats change only through :func:`_take_seats` / :func:`_release_seats`: the slot row is
locked (bounded by lock_timeout) and then updated with a conditional UPDATE on
(id, version) that also enforces capacity. The lock makes concurrent bookings of one slot
queue instead of failing on each other's version bumps (so the last seats all sell); the
version and capacity conditions still protect against any writer that does not lock.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from experiences import errors
from experiences.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    Experience,
    ExperienceTimeSlot,
)
from experiences.services._locking import VersionConflict, with_retries
from gamification.services import BOOKING_COMPLETED_XP, rewards_after_commit
from guelaguetza.cache import cache
from guelaguetza.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from guelaguetza.ids import possible_id
from guelaguetza.observability import metrics

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

EXPIRABLE_STATUSES = (BookingStatus.PENDING_PAYMENT, BookingStatus.PAYMENT_FAILED)


def _slot_started(slot: ExperienceTimeSlot) -> bool:
    tz = ZoneInfo(settings.FESTIVAL_TIME_ZONE)
    return dt.datetime.combine(slot.date, slot.start_time, tzinfo=tz) <= timezone.now()


def _lock_slot(slot_id: str) -> ExperienceTimeSlot | None:
    return ExperienceTimeSlot.objects.select_for_update().filter(pk=slot_id).first()


def _take_seats(slot: ExperienceTimeSlot, guests: int) -> None:
    was_available = slot.is_available
    after = slot.booked_count + guests
    updated = ExperienceTimeSlot.objects.filter(
        pk=slot.pk, version=slot.version, booked_count__lte=F("capacity") - guests
    ).update(
        booked_count=F("booked_count") + guests,
        version=F("version") + 1,
        is_available=after < slot.capacity,
    )
    if updated != 1:
        raise VersionConflict
    slot.booked_count, slot.version, slot.is_available = (
        after,
        slot.version + 1,
        after < slot.capacity,
    )
    # QuerySet.update() fires no signal: the slot's seats show in the experience's slots
    # (and a full slot leaves the ``date`` filter of the lists).
    _seats_changed(slot, was_available=was_available)


def _seats_changed(slot: ExperienceTimeSlot, *, was_available: bool) -> None:
    flipped = was_available != slot.is_available
    name = "slot_availability_changed" if flipped else "seats_changed"
    cache.cascade(name, experience_id=slot.experience_id)


def _release_seats(slot: ExperienceTimeSlot, guests: int) -> None:
    was_available = slot.is_available
    updated = ExperienceTimeSlot.objects.filter(pk=slot.pk, version=slot.version).update(
        # Greatest: a hand-edited count must not make a booking uncancellable.
        booked_count=Greatest(F("booked_count") - guests, 0),
        version=F("version") + 1,
        is_available=True,
    )
    if updated != 1:
        raise VersionConflict
    slot.booked_count = max(slot.booked_count - guests, 0)
    slot.version += 1
    slot.is_available = True
    # QuerySet.update() fires no signal: see _take_seats.
    _seats_changed(slot, was_available=was_available)


def booking_create(
    *,
    user: User,
    experience_id: str,
    time_slot_id: str,
    guest_count: int = 1,
    special_requests: str | None = None,
) -> Booking:
    """Book ``guest_count`` seats; status PENDING [F14].

    Errors come in the order of docs/api.md#post-bookings-bookings.
    """
    started = time.perf_counter()

    def attempt() -> Booking:
        experience = (
            Experience.objects.select_related("host").filter(pk=experience_id).first()
            if possible_id(experience_id)
            else None
        )
        if experience is None:
            raise NotFound(errors.EXPERIENCE_NOT_FOUND)
        slot = _lock_slot(time_slot_id) if possible_id(time_slot_id) else None
        if slot is None:
            raise NotFound(errors.SLOT_NOT_FOUND)
        if slot.experience_id != experience.id:
            raise Invalid(errors.SLOT_MISMATCH)
        if not experience.is_active:
            raise Invalid(errors.EXPERIENCE_UNAVAILABLE)  # [F15]
        if not slot.is_available or _slot_started(slot):
            raise Invalid(errors.SLOT_UNAVAILABLE)
        available = slot.capacity - slot.booked_count
        if guest_count > available:
            raise Invalid(f"Solo hay {available} lugares disponibles")
        if Booking.objects.filter(user=user, time_slot=slot, status__in=ACTIVE_STATUSES).exists():
            raise Conflict(errors.DUPLICATE_BOOKING)
        _take_seats(slot, guest_count)
        try:
            booking = Booking.objects.create(
                user=user,
                experience=experience,
                time_slot=slot,
                status=BookingStatus.PENDING,
                guest_count=guest_count,
                total_price=experience.price * guest_count,
                special_requests=special_requests or None,
            )
        except IntegrityError as exc:
            # The partial unique index is the last word on duplicates [F13].
            if "booking_one_active_per_user_slot" in str(exc):
                raise Conflict(errors.DUPLICATE_BOOKING) from exc
            raise
        return booking

    try:
        booking = with_retries(attempt, hint=errors.SLOT_HINT)
    except DomainError as exc:
        metrics.bookings_created_total.labels(
            status="conflict" if isinstance(exc, Conflict) else "failed"
        ).inc()
        raise
    except Exception:
        metrics.bookings_created_total.labels(status="failed").inc()
        raise
    finally:
        metrics.booking_creation_duration_seconds.observe(time.perf_counter() - started)
    metrics.bookings_created_total.labels(status="pending").inc()
    return booking


def _get_booking_locked(booking_id: str) -> Booking:
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("experience")
        .filter(pk=booking_id)
        .first()
        if possible_id(booking_id)
        else None
    )
    if booking is None:
        raise NotFound(errors.BOOKING_NOT_FOUND)
    return booking


def booking_get_full(booking_id: str) -> Booking:
    return Booking.objects.select_related("experience__host", "time_slot", "user").get(
        pk=booking_id
    )


def booking_confirm(*, user: User, booking_id: str) -> Booking:
    """PENDING (or legacy PENDING_PAYMENT) -> CONFIRMED, by the owner; no payment check."""
    with transaction.atomic():
        booking = _get_booking_locked(booking_id)
        if booking.user_id != user.id:
            raise Forbidden(errors.FORBIDDEN_CONFIRM)
        if booking.status not in (BookingStatus.PENDING, BookingStatus.PENDING_PAYMENT):
            raise Invalid(errors.ALREADY_PROCESSED)
        booking.status = BookingStatus.CONFIRMED
        booking.confirmed_at = timezone.now()
        booking.save(update_fields=["status", "confirmed_at", "updated_at"])
    return booking_get_full(booking.pk)


def booking_cancel(*, user: User, booking_id: str) -> Booking:
    """Owner or host cancels; the seats go back to the slot under the version check."""

    def attempt() -> Booking:
        booking = _get_booking_locked(booking_id)
        if user.id not in (booking.user_id, booking.experience.host_id):
            raise Forbidden(errors.FORBIDDEN_CANCEL)
        if booking.status == BookingStatus.CANCELLED:
            raise Invalid(errors.ALREADY_CANCELLED)
        if booking.status == BookingStatus.COMPLETED:
            raise Invalid(errors.CANNOT_CANCEL_COMPLETED)
        _cancel_locked(booking)
        return booking

    booking = with_retries(attempt, hint=errors.BOOKING_HINT)
    metrics.bookings_cancelled_total.inc()
    return booking_get_full(booking.pk)


def _cancel_locked(booking: Booking) -> None:
    slot = _lock_slot(booking.time_slot_id)
    _release_seats(slot, booking.guest_count)
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = timezone.now()
    booking.save(update_fields=["status", "cancelled_at", "updated_at"])


def booking_complete(*, user: User, booking_id: str) -> Booking:
    """CONFIRMED -> COMPLETED by the host; +50 XP to the guest and the badge evaluation
    run after the commit, through the gamification service [F6]."""
    with transaction.atomic():
        booking = _get_booking_locked(booking_id)
        if booking.experience.host_id != user.id:
            raise Forbidden(errors.FORBIDDEN_COMPLETE)
        if booking.status != BookingStatus.CONFIRMED:
            raise Invalid(errors.ONLY_CONFIRMED_COMPLETE)
        booking.status = BookingStatus.COMPLETED
        booking.save(update_fields=["status", "updated_at"])
        # After commit, so a gamification problem can never undo the completion.
        rewards_after_commit(user=booking.user, xp=BOOKING_COMPLETED_XP, reason="booking_completed")
    return booking_get_full(booking.pk)


def bookings_expire_pending(*, older_than: dt.timedelta) -> int:
    """Stale PENDING_PAYMENT / PAYMENT_FAILED bookings -> CANCELLED, seats restored (the
    original's cleanup job; a no-op while nothing produces those statuses)."""
    cutoff = timezone.now() - older_than
    ids = Booking.objects.filter(status__in=EXPIRABLE_STATUSES, updated_at__lt=cutoff).values_list(
        "pk", flat=True
    )
    return _cancel_many(list(ids), statuses=EXPIRABLE_STATUSES)


def bookings_cancel_by_staff(*, booking_ids: list[str]) -> int:
    """The admin's cancel action: like the owner's cancel, seats restored."""
    cancellable = tuple(
        s for s in BookingStatus if s not in (BookingStatus.CANCELLED, BookingStatus.COMPLETED)
    )
    return _cancel_many(booking_ids, statuses=cancellable)


def _cancel_many(booking_ids: list[str], *, statuses: tuple) -> int:
    """Cancel each booking still in ``statuses``, one retried transaction per booking."""
    cancelled = 0
    for booking_id in booking_ids:

        def attempt(booking_id: str = booking_id) -> bool:
            booking = Booking.objects.select_for_update().filter(pk=booking_id).first()
            # Re-checked under the lock: it may have been confirmed or cancelled meanwhile.
            if booking is None or booking.status not in statuses:
                return False
            _cancel_locked(booking)
            return True

        if with_retries(attempt, hint=errors.BOOKING_HINT):
            cancelled += 1
            metrics.bookings_cancelled_total.inc()
    return cancelled
