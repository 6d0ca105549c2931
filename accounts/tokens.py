"""HS256 access and refresh tokens with the original backend's claims (API.md 1.2).

Access: ``sub`` (user id), ``email``, ``role``, ``jti``, ``type: "access"``, ``iat``,
``exp``. Refresh: the same plus ``familyId`` and ``type: "refresh"``. Secrets and
lifetimes are settings, read per call so tests can override them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jwt
from django.conf import settings

if TYPE_CHECKING:
    from accounts.models import User

ALGORITHM = "HS256"


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: dt.datetime


def _encode(user: User, *, kind: str, secret: str, lifetime: int, extra: dict) -> IssuedToken:
    now = dt.datetime.now(dt.UTC)
    expires_at = now + dt.timedelta(seconds=lifetime)
    jti = str(uuid.uuid4())
    claims = {
        "sub": str(user.pk),
        "email": user.email,
        "role": user.role,
        "jti": jti,
        "type": kind,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        **extra,
    }
    return IssuedToken(jwt.encode(claims, secret, algorithm=ALGORITHM), jti, expires_at)


def access_token_issue(user: User) -> IssuedToken:
    return _encode(
        user,
        kind="access",
        secret=settings.JWT_ACCESS_SECRET,
        lifetime=settings.ACCESS_TOKEN_LIFETIME,
        extra={},
    )


def refresh_token_issue(user: User, *, family_id: str) -> IssuedToken:
    return _encode(
        user,
        kind="refresh",
        secret=settings.JWT_REFRESH_SECRET,
        lifetime=settings.REFRESH_TOKEN_LIFETIME,
        extra={"familyId": family_id},
    )


def access_token_decode(token: str) -> dict | None:
    """The claims of a valid access token, else None (expired, forged, malformed...)."""
    try:
        claims = jwt.decode(
            token,
            settings.JWT_ACCESS_SECRET,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "exp"]},
        )
    except jwt.PyJWTError:
        return None
    if claims.get("type") != "access" or not isinstance(claims.get("sub"), str):
        return None
    return claims


def refresh_token_decode(token: str) -> dict:
    """The claims of a refresh token; raises ``jwt.PyJWTError`` subclasses as PyJWT does."""
    return jwt.decode(
        token,
        settings.JWT_REFRESH_SECRET,
        algorithms=[ALGORITHM],
        options={"require": ["sub", "exp", "jti"]},
    )
