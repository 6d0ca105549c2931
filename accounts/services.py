"""Writes of the accounts app: registration, login, token rotation, profile (docs/api.md#auth)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import jwt
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import RefreshToken, User
from accounts.selectors import users_with_email
from accounts.tokens import access_token_issue, refresh_token_decode, refresh_token_issue
from guelaguetza.api.permissions import BANNED, USER_NOT_FOUND
from guelaguetza.errors import Forbidden, Invalid, Unauthenticated

EMAIL_TAKEN = "El email ya está registrado"
BAD_CREDENTIALS = "Credenciales inválidas"
REFRESH_REQUIRED = "Refresh token es requerido"
REFRESH_EXPIRED = "Refresh token expirado"
REFRESH_INVALID = "Refresh token inválido"
REFRESH_BAD_SIGNATURE = "Refresh token inválido: firma incorrecta"
REFRESH_OLD_FORMAT = "Token inválido: formato antiguo. Por favor, inicia sesión nuevamente."
REFRESH_REPLAYED = (
    "Actividad sospechosa detectada. Por seguridad, todas tus sesiones han sido cerradas. "
    "Por favor, inicia sesión nuevamente."
)
REFRESH_REVOKED = "Sesión invalidada por seguridad. Por favor, inicia sesión nuevamente."


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def _pair_issue(*, user: User, family_id: str) -> TokenPair:
    refresh = refresh_token_issue(user, family_id=family_id)
    RefreshToken.objects.create(
        jti=refresh.jti, user=user, family_id=family_id, expires_at=refresh.expires_at
    )
    return TokenPair(
        access_token=access_token_issue(user).token,
        refresh_token=refresh.token,
        expires_in=settings.ACCESS_TOKEN_LIFETIME,
    )


def user_register(
    *,
    email: str,
    password: str,
    nombre: str,
    apellido: str | None = None,
    region: str | None = None,
) -> tuple[User, TokenPair]:
    email = email.strip().lower()
    if users_with_email(email).exists():
        raise Invalid(EMAIL_TAKEN)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email, password, nombre=nombre, apellido=apellido, region=region
            )
            pair = _pair_issue(user=user, family_id=str(uuid.uuid4()))
    except IntegrityError:  # a concurrent registration of the same email won
        raise Invalid(EMAIL_TAKEN) from None
    return user, pair


def user_login(*, email: str, password: str) -> tuple[User, TokenPair]:
    user = users_with_email(email).first()
    if user is None:
        # Same hashing cost as a real check, so response time does not reveal emails.
        User().set_password(password)
        raise Unauthenticated(BAD_CREDENTIALS)
    if not user.check_password(password) or not user.is_active:
        raise Unauthenticated(BAD_CREDENTIALS)
    if user.is_banned:
        reason = f": {user.banned_reason}" if user.banned_reason else ""
        raise Forbidden(BANNED + reason)
    return user, _pair_issue(user=user, family_id=str(uuid.uuid4()))


def token_refresh(*, token: str | None) -> TokenPair:
    """Single-use rotation: the presented token is spent and a new pair issued in its
    family. A spent token presented again revokes the family (that revocation commits
    even though the request fails)."""
    if not token or not isinstance(token, str):
        raise Invalid(REFRESH_REQUIRED)
    try:
        claims = refresh_token_decode(token)
    except jwt.ExpiredSignatureError:
        raise Unauthenticated(REFRESH_EXPIRED) from None
    except jwt.InvalidSignatureError:
        raise Unauthenticated(REFRESH_BAD_SIGNATURE) from None
    except jwt.PyJWTError:
        raise Unauthenticated(REFRESH_INVALID) from None
    if claims.get("type") != "refresh":
        raise Unauthenticated(REFRESH_INVALID)
    family_id = claims.get("familyId")
    if not family_id or not isinstance(family_id, str):
        raise Unauthenticated(REFRESH_OLD_FORMAT)

    now = timezone.now()
    pair = None
    with transaction.atomic():
        # The row lock serialises concurrent refreshes of one token; the successor is
        # created in the same transaction, so a concurrent replay (whose UPDATE runs
        # after this commit, READ COMMITTED) revokes it too.
        row = (
            RefreshToken.objects.select_for_update()
            .filter(jti=str(claims["jti"]), family_id=family_id)
            .first()
        )
        if row is None:
            error = REFRESH_INVALID
        elif row.revoked_at is not None:
            error = REFRESH_REVOKED
        elif row.used_at is not None:
            RefreshToken.objects.filter(family_id=family_id, revoked_at=None).update(revoked_at=now)
            error = REFRESH_REPLAYED
        else:
            user = User.objects.filter(pk=row.user_id).first()
            if user is None:
                error = USER_NOT_FOUND
            elif user.is_banned:
                error = BANNED
            else:
                error = None
                row.used_at = now
                row.save(update_fields=["used_at"])
                pair = _pair_issue(user=user, family_id=family_id)
    # Raised after the block: the family revocation above must commit.
    if error is not None:
        raise Unauthenticated(error)
    return pair


PROFILE_FIELDS = ("nombre", "apellido", "avatar", "region")


def profile_update(*, user: User, data: dict) -> User:
    """Update the given profile fields only. A change of nombre or avatar reaches the
    leaderboard caches through accounts.signals."""
    changed = [f for f in PROFILE_FIELDS if f in data and getattr(user, f) != data[f]]
    if not changed:
        return user
    for field in changed:
        setattr(user, field, data[field])
    user.save(update_fields=[*changed, "updated_at"])
    return user
