"""JSON bodies are checked against the types the OpenAPI schema states.

DRF's fields coerce: a CharField takes 5 as "5", a BooleanField takes 0 and "yes", an
IntegerField "7". The schema says string, boolean, integer; a client that sends another
type gets the 400 (or the auth routes' 422) in the API's error shape instead of a
silently converted value. Query strings are all text and keep their own parsers.
"""

from __future__ import annotations

import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

TYPE_MESSAGES = {
    "string": "Debe ser texto",
    "integer": "Debe ser un número entero",
    "number": "Debe ser un número",
    "boolean": "Debe ser verdadero o falso",
    "array": "Debe ser una lista",
    "object": "Debe ser un objeto",
}


def json_type(field: serializers.Field) -> str | None:
    """The JSON type a body field takes, or None when the field checks it itself."""
    if getattr(field, "json_type", None):
        return field.json_type
    if isinstance(field, serializers.BooleanField):
        return "boolean"
    if isinstance(field, serializers.IntegerField):
        return "integer"
    if isinstance(field, serializers.FloatField | serializers.DecimalField):
        return "number"
    if isinstance(field, serializers.CharField | serializers.ChoiceField):
        return "string"
    if isinstance(field, serializers.ListField | serializers.ListSerializer):
        return "array"
    if isinstance(field, serializers.Serializer):
        return "object"
    return None


def _matches(value: object, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return True


class JsonBody(serializers.Serializer):
    """Base of every body serializer: a value of the wrong JSON type is refused before
    the field sees it (null is left to the field's ``allow_null``)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors: dict[str, list[str]] = {}
            for name, field in self.fields.items():
                if field.read_only or name not in data or data[name] is None:
                    continue
                kind = json_type(field)
                value = data[name]
                if kind and not _matches(value, kind):
                    errors[name] = [TYPE_MESSAGES[kind]]
                    continue
                child = getattr(field, "child", None)
                child_kind = json_type(child) if isinstance(field, serializers.ListField) else None
                if child_kind and any(not _matches(item, child_kind) for item in value):
                    errors[name] = [TYPE_MESSAGES[child_kind]]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


# An absolute http(s) URL: the rule the schema states is the one applied (Django's
# URLValidator also refuses, say, host names over 253 characters that a schema's
# "format: uri" admits).
# Explicit ranges, not \s or \d: Python's and a JSON-schema validator's regex engines
# disagree on which characters those classes cover.
URL_PATTERN = (
    r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?"
    r"(?:[/?#][^\x00-\x20\x7f]*)?$"
)


@extend_schema_field({"type": "string", "pattern": URL_PATTERN})
class UrlField(serializers.CharField):
    default_error_messages = {"invalid": "Debe ser una URL válida"}

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value and not re.fullmatch(URL_PATTERN, value):
            self.fail("invalid")
        return value
