"""HS256 access and refresh tokens with the original backend's claims (docs/api.md#authentication).

Access: ``sub`` (user id), ``email``, ``role``, ``jti``, ``type: "access"``, ``iat``,
``exp``. Refresh: the same plus ``familyId`` and ``type: "refresh"``. Secrets and
lifetimes are settings, read per call so tests can override them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jwt
import orjson
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


_HS256_HEADERS = frozenset({b'{"alg":"HS256","typ":"JWT"}', b'{"typ":"JWT","alg":"HS256"}'})


def access_token_claims_fast(token: str) -> dict | None:
    """The claims of an access token this backend issued and that is valid now, checked
    without PyJWT (a fifth of a signed-in cache hit's CPU): None for anything else,
    including valid tokens it does not recognise (another header layout, an ``aud``,
    ``nbf``), for which the caller asks :func:`access_token_decode` instead. So it
    never accepts what that function would reject."""
    head, _, rest = token.partition(".")
    body, _, signature = rest.partition(".")
    try:
        if _b64(head) not in _HS256_HEADERS:
            return None
        expected = hmac.new(
            settings.JWT_ACCESS_SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256
        ).digest()
        if not hmac.compare_digest(expected, _b64(signature)):
            return None
        claims = orjson.loads(_b64(body))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None
    if not isinstance(claims, dict) or claims.keys() - _FAST_CLAIMS:
        return None
    exp, iat, now = claims.get("exp"), claims.get("iat", 0), time.time()
    if type(exp) is not int or type(iat) is not int or exp <= now or iat > now:
        return None
    if claims.get("type") != "access" or not isinstance(claims.get("sub"), str):
        return None
    return claims


# The claims _encode writes; a token with others goes the slow, complete way.
_FAST_CLAIMS = frozenset({"sub", "email", "role", "jti", "type", "iat", "exp"})


def _b64(segment: str) -> bytes:
    if not segment or "=" in segment:
        raise ValueError("not a JWT segment")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def refresh_token_decode(token: str) -> dict:
    """The claims of a refresh token; raises ``jwt.PyJWTError`` subclasses as PyJWT does."""
    return jwt.decode(
        token,
        settings.JWT_REFRESH_SECRET,
        algorithms=[ALGORITHM],
        options={"require": ["sub", "exp", "jti"]},
    )
