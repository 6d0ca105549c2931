"""Writes of the experiences app (docs/architecture.md#services-selectors), split by entity."""

from experiences.services.bookings import (
    booking_cancel,
    booking_complete,
    booking_confirm,
    booking_create,
    bookings_cancel_by_staff,
    bookings_expire_pending,
)
from experiences.services.catalogue import (
    experience_create,
    experience_delete,
    experience_update,
    review_create,
    reviews_changed_by_staff,
    slot_delete,
    slots_create,
)
from experiences.services.idempotency import booking_create_idempotent, idempotency_keys_purge
from experiences.services.staff import booking_move_by_staff, bookings_delete_by_staff

__all__ = [
    "booking_cancel",
    "booking_complete",
    "booking_confirm",
    "booking_create",
    "booking_create_idempotent",
    "booking_move_by_staff",
    "bookings_cancel_by_staff",
    "bookings_delete_by_staff",
    "bookings_expire_pending",
    "experience_create",
    "experience_delete",
    "experience_update",
    "idempotency_keys_purge",
    "review_create",
    "reviews_changed_by_staff",
    "slot_delete",
    "slots_create",
]
