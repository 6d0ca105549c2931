"""``Idempotency-Key`` on POST /bookings/bookings, stored in PostgreSQL.

The key row is inserted first, in the transaction that then books: a concurrent request
with the same key blocks on the unique (user, key) index until that transaction ends.
If it committed, the request replays the stored response; if it rolled back (the booking
failed), the key is free again and the request runs normally.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import TYPE_CHECKING

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from experiences import errors
from experiences.errors import concurrency_error
from experiences.models import BookingIdempotencyKey
from experiences.serializers import booking_full
from experiences.services._locking import LOCK_NOT_AVAILABLE, set_lock_timeout, sqlstate
from experiences.services.bookings import booking_create
from guelaguetza.errors import Invalid, Mismatch
from guelaguetza.ids import new_id

if TYPE_CHECKING:
    from accounts.models import User

MAX_KEY_LENGTH = 255


def _fingerprint(data: dict) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def booking_create_idempotent(*, user: User, key: str, data: dict) -> tuple[int, dict, bool]:
    """(status, body, replayed). ``data`` is BookingCreateSerializer's validated data.

    Same key and body -> the first response again; same key, other body -> 422.
    """
    if not key or len(key) > MAX_KEY_LENGTH or "\x00" in key:
        raise Invalid(errors.IDEMPOTENCY_KEY_INVALID)
    fingerprint = _fingerprint(data)
    try:
        return _run(user=user, key=key, data=data, fingerprint=fingerprint)
    except OperationalError as exc:
        # The first request with this key held its row past lock_timeout: answer at once,
        # a retry with the same key will replay its response.
        if sqlstate(exc) == LOCK_NOT_AVAILABLE:
            raise concurrency_error(errors.SLOT_HINT) from exc
        raise


def _run(*, user: User, key: str, data: dict, fingerprint: str) -> tuple[int, dict, bool]:
    table = BookingIdempotencyKey._meta.db_table
    with transaction.atomic():
        set_lock_timeout()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (id, user_id, key, fingerprint, created_at) "
                "VALUES (%s, %s, %s, %s, now()) "
                "ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
                [new_id(), user.id, key, fingerprint],
            )
            inserted = cursor.fetchone()
        if inserted is None:
            stored = BookingIdempotencyKey.objects.get(user=user, key=key)
            if stored.fingerprint != fingerprint:
                raise Mismatch(errors.IDEMPOTENCY_MISMATCH)
            return stored.status_code, stored.response, True
        booking = booking_create(
            user=user,
            experience_id=data["experienceId"],
            time_slot_id=data["timeSlotId"],
            guest_count=data["guestCount"],
            special_requests=data.get("specialRequests"),
        )
        body = {"booking": booking_full(booking), "clientSecret": None}
        BookingIdempotencyKey.objects.filter(pk=inserted[0]).update(status_code=201, response=body)
    return 201, body, False


def idempotency_keys_purge(*, older_than: dt.timedelta) -> int:
    """Forget stored responses past their replay window (run by expire_pending_bookings)."""
    cutoff = timezone.now() - older_than
    deleted, _ = BookingIdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
