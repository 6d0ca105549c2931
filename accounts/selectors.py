"""Reads of the accounts app."""

from __future__ import annotations

import datetime as dt

from django.db import router
from django.db.models import QuerySet, Value
from django.db.models.functions import Lower

from accounts.models import User
from guelaguetza.cache import cache, keys
from guelaguetza.cache.registry import ALL, FAMILIES

# What a request needs to know about the user a token names. Everything else (password,
# last_login, updated_at) stays deferred: reading it costs a query, and save() on such an
# instance writes only the loaded fields, so it can never blank the others.
# The fields the registry declares user:{id}:auth shows (a change to one clears it), plus
# the two that never change.
AUTH_FIELDS = (
    "id",
    *(f for f in FAMILIES["user_auth"].shows[0].fields if f not in ALL),
    "created_at",
)
_DATETIMES = frozenset({"banned_at", "created_at"})


def _auth_payload(user_id: str) -> dict | None:
    row = User.objects.filter(pk=user_id).values(*AUTH_FIELDS).first()
    if row is None:
        return None  # cached too: a deleted user's tokens stay rejected without a query
    for name in _DATETIMES:
        if row[name] is not None:
            row[name] = row[name].isoformat()
    return row


def user_for_token(*, user_id: str) -> User | None:
    """The user a valid access token names, or None when that user no longer exists.

    Cached under ``user:{id}:auth`` so that a signed-in read served from the cache runs
    no SQL at all; accounts.signals clears it when any of AUTH_FIELDS changes (a ban, a
    role or profile change, a delete).
    """
    row = cache.wrap(keys.user_auth(user_id=user_id), lambda: _auth_payload(user_id))
    if row is None:
        return None
    # from_db takes the loaded values in the model's field order, the rest deferred.
    names = [f.attname for f in User._meta.concrete_fields if f.attname in row]
    values = [
        dt.datetime.fromisoformat(row[f]) if f in _DATETIMES and row[f] else row[f] for f in names
    ]
    return User.from_db(router.db_for_read(User), names, values)


def users_with_email(email: str) -> QuerySet[User]:
    """The user whose email is ``email`` ignoring case, compared as the unique constraint
    compares them (``Lower(email)``), so the lookup is a scan of that constraint's index;
    ``email__iexact`` compiles to ``UPPER(email)``, which no index serves: every login
    and registration read the whole table."""
    return User.objects.alias(email_lower=Lower("email")).filter(
        email_lower=Lower(Value(email.strip()))
    )
