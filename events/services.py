"""Writes of docs/api.md#events. Cache invalidation follows from the receivers (after
commit)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from psycopg import errors as pg_errors

from events.models import Event, EventReminder, EventRSVP
from gamification.services import rewards_after_commit
from guelaguetza.errors import Invalid, NotFound
from guelaguetza.ids import possible_id

if TYPE_CHECKING:
    from accounts.models import User

EVENT_NOT_FOUND = "Evento no encontrado"
ALREADY_RSVPED = "Ya confirmaste tu asistencia"
REMINDER_AFTER_START = "El recordatorio debe ser antes del evento"
RSVP_UNIQUE = "events_rsvp_user_event_unique"


def _violation(exc: IntegrityError) -> tuple[type | None, str | None]:
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    return type(cause), getattr(diag, "constraint_name", None)


def event_rsvp_create(*, user: User, event_id: str) -> EventRSVP:
    """RSVP ``user`` to the event; 404 if unknown, 400 only for a duplicate RSVP [F11].

    The badge evaluation runs after the commit, outside this transaction, so a badge
    problem can never lose the RSVP (cross-app contract, rewards_after_commit).
    """
    if not possible_id(event_id):
        raise NotFound(EVENT_NOT_FOUND)
    try:
        with transaction.atomic():
            if not Event.objects.filter(pk=event_id).exists():
                raise NotFound(EVENT_NOT_FOUND)
            rsvp = EventRSVP.objects.create(user=user, event_id=event_id)
    except IntegrityError as exc:
        kind, constraint = _violation(exc)
        if kind is pg_errors.UniqueViolation and constraint == RSVP_UNIQUE:
            raise Invalid(ALREADY_RSVPED) from exc
        if kind is pg_errors.ForeignKeyViolation:
            # The event was deleted between the check and the (deferred) FK check.
            raise NotFound(EVENT_NOT_FOUND) from exc
        raise
    rewards_after_commit(user=user, reason="rsvp")
    return rsvp


def event_rsvp_delete(*, user: User, event_id: str) -> int:
    """Idempotent: no error for an unknown event or a missing RSVP. Returns rows deleted.

    QuerySet.delete() sends post_delete per row (receivers are connected), so the
    RSVP receiver invalidates as for a single delete.
    """
    if not possible_id(event_id):
        return 0
    deleted, _ = EventRSVP.objects.filter(user=user, event_id=event_id).delete()
    return deleted


def event_reminder_set(*, user: User, event_id: str, remind_at: dt.datetime) -> EventReminder:
    """Upsert the user's reminder: sets remindAt and resets ``sent``; no RSVP needed."""
    if not possible_id(event_id):
        raise NotFound(EVENT_NOT_FOUND)
    try:
        with transaction.atomic():
            start = Event.objects.filter(pk=event_id).values_list("start_date", flat=True).first()
            if start is None:
                raise NotFound(EVENT_NOT_FOUND)
            if remind_at >= start:
                raise Invalid(REMINDER_AFTER_START)
            reminder, _ = EventReminder.objects.update_or_create(
                user=user, event_id=event_id, defaults={"remind_at": remind_at, "sent": False}
            )
    except IntegrityError as exc:
        if _violation(exc)[0] is pg_errors.ForeignKeyViolation:
            raise NotFound(EVENT_NOT_FOUND) from exc  # deleted meanwhile
        raise
    return reminder


def event_reminder_delete(*, user: User, event_id: str) -> int:
    """Idempotent, like the RSVP delete."""
    if not possible_id(event_id):
        return 0
    deleted, _ = EventReminder.objects.filter(user=user, event_id=event_id).delete()
    return deleted
