"""Input validation and output shapes of /api/auth (docs/api.md#auth).

Messages are the original's Spanish texts; unknown keys in a body are dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework import serializers

from guelaguetza.api.fields import JsonBody, UrlField
from guelaguetza.api.formats import iso

if TYPE_CHECKING:
    from accounts.models import User

EMAIL_INVALID = "Email inválido"
PASSWORD_SHORT = "La contraseña debe tener al menos 6 caracteres"
PASSWORD_REQUIRED = "La contraseña es requerida"
NOMBRE_SHORT = "El nombre debe tener al menos 2 caracteres"


def _msgs(invalid: str, **extra: str) -> dict:
    base = {k: invalid for k in ("required", "null", "blank", "invalid")}
    return {**base, "max_length": "Demasiado largo (máximo {max_length} caracteres)", **extra}


def _text(*, max_length: int, label: str, **kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=max_length,
        allow_blank=True,  # the UI may send "" to clear a field
        # Not trimmed: lengths count the raw string, as the OpenAPI schema states them.
        trim_whitespace=False,
        error_messages={
            "invalid": f"{label} debe ser texto",
            "max_length": f"{label} no puede tener más de {max_length} caracteres",
        },
        **kwargs,
    )


class RegisterInput(JsonBody):
    email = serializers.EmailField(
        max_length=254, trim_whitespace=False, error_messages=_msgs(EMAIL_INVALID)
    )
    password = serializers.CharField(
        min_length=6,
        max_length=256,
        trim_whitespace=False,
        error_messages=_msgs(PASSWORD_SHORT, min_length=PASSWORD_SHORT),
    )
    nombre = serializers.CharField(
        min_length=2,
        max_length=100,
        trim_whitespace=False,
        error_messages=_msgs(NOMBRE_SHORT, min_length=NOMBRE_SHORT),
    )
    apellido = _text(max_length=100, label="El apellido", required=False, allow_null=True)
    region = _text(max_length=100, label="La región", required=False, allow_null=True)


class LoginInput(JsonBody):
    email = serializers.EmailField(
        max_length=254, trim_whitespace=False, error_messages=_msgs(EMAIL_INVALID)
    )
    password = serializers.CharField(
        max_length=256, trim_whitespace=False, error_messages=_msgs(PASSWORD_REQUIRED)
    )


class ProfileInput(JsonBody):
    nombre = serializers.CharField(
        min_length=2,
        max_length=100,
        required=False,
        trim_whitespace=False,
        error_messages=_msgs(NOMBRE_SHORT, min_length=NOMBRE_SHORT),
    )
    apellido = _text(max_length=100, label="El apellido", required=False, allow_null=True)
    avatar = UrlField(
        max_length=500,
        required=False,
        allow_null=True,
        allow_blank=True,
        error_messages={
            "invalid": "Avatar debe ser una URL válida",
            "max_length": "Avatar no puede tener más de 500 caracteres",
        },
    )
    region = _text(max_length=100, label="La región", required=False, allow_null=True)

    def validate_avatar(self, value: str | None) -> str | None:
        return value or None  # "" clears the avatar


def auth_user(user: User, *, created_at: bool = False) -> dict:
    """AuthUser of docs/api.md#shape-authuser (register adds ``createdAt``)."""
    out = {
        "id": user.id,
        "email": user.email,
        "nombre": user.nombre,
        "apellido": user.apellido,
        "avatar": user.avatar,
        "region": user.region,
        "role": user.role,
    }
    if created_at:
        out["createdAt"] = iso(user.created_at)
    return out


def me_payload(user: User) -> dict:
    return {
        **auth_user(user, created_at=True),
        # The original counts stories and likes, domains this backend does not have.
        "_count": {"stories": 0, "likes": 0},
    }
