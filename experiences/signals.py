"""Cache-invalidation receivers only (STYLE.md), connected in apps.py.

Each computes ids and calls the cache layer, which defers to ``on_commit``. Writes that
bypass signals (the slot's conditional UPDATE, bulk_create) invalidate in the service.
"""

from guelaguetza.cache import cache

# Booking fields no cached value shows: the detail and the lists count bookings of any
# status, so a confirm or complete changes nothing cached. (A cancel also restores seats,
# through a conditional UPDATE that invalidates explicitly.)
_UNCACHED_BOOKING_FIELDS = frozenset({"status", "confirmed_at", "cancelled_at", "updated_at"})


def experience_changed(sender, instance, **kwargs) -> None:
    cache.cascade("experience_changed", experience_id=instance.pk)


def slot_changed(sender, instance, **kwargs) -> None:
    cache.cascade("slots_changed", experience_id=instance.experience_id)


def booking_changed(sender, instance, update_fields=None, **kwargs) -> None:
    if update_fields and set(update_fields) <= _UNCACHED_BOOKING_FIELDS:
        return
    cache.cascade("booking_changed", experience_id=instance.experience_id)


def review_changed(sender, instance, **kwargs) -> None:
    cache.cascade("review_created", experience_id=instance.experience_id)
