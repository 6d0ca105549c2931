"""Query strings parsed by plain functions (docs/architecture.md#query-strings).

A :class:`Query` declares a route's parameters, in order: each one's type, default,
bounds or choices, whether it is required, and the name the parsed dict gives it. That
one declaration

- parses for the view: :meth:`Query.parse` returns the dict the selector takes, or
  raises :class:`guelaguetza.errors.Invalid`, which the API answers with the 400 of
  docs/api.md#errors (``details``: one ``{field, message}`` per bad parameter, in
  declaration order; ``error``/``message``: ``"<field> <message>"`` of the first);
- parses for the hit path (guelaguetza/api/cached.py): :meth:`Query.parse_or_none` is
  the same parse, None where the view would answer 400, so both build their cache keys
  from the same dict and a hit can never answer what the view would refuse;
- documents the parameters in the OpenAPI schema (:meth:`Query.openapi`).

A repeated parameter counts with its last value, an unknown one is ignored (what the
views did with DRF serializers). The messages are the Spanish texts those serializers
answered, kept word for word (tests/test_query.py pins them).
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from drf_spectacular.plumbing import build_choice_description_list
from drf_spectacular.utils import OpenApiParameter

from guelaguetza.api.schema import NO_NUL
from guelaguetza.errors import Invalid

REQUIRED = "Este campo es requerido."
INVALID_INTEGER = "Introduzca un número entero válido."
INVALID_NUMBER = "Se requiere un número válido."
TOO_LONG_NUMBER = "Cadena demasiado larga."
INVALID_CHOICE = '"{value}" no es una elección válida.'
MIN_VALUE = "Asegúrese de que este valor es mayor o igual a {limit}."
MAX_VALUE = "Asegúrese de que este valor es menor o igual a {limit}."
MAX_LENGTH = "Asegúrese de que este campo no tenga más de {limit} caracteres."
NUL_CHARACTERS = "Caracteres nulos no están permitidos."
INVALID_DATE = "Fecha inválida, usa YYYY-MM-DD"

# Integer syntaxes, each with the digits (and sign) in group 1. They differ per route
# because the contract's 400s did (docs/api.md): "+1", " 1" and "-1" are each valid in
# some route and not in another. Python's \d and \s also match non-ASCII digits and
# spaces; int() reads those digits.
DIGITS = re.compile(r"(\d{1,9})")  # digits only
SIGNED = re.compile(r"\s*(-?\d{1,9})\s*")  # a minus allowed (then below the minimum)
UNSIGNED = re.compile(r"\s*\+?(\d{1,9})\s*")  # a plus allowed, a minus not


class Bad(Exception):
    """One parameter's value refused: ``messages`` for its ``details`` entries."""

    def __init__(self, *messages: str) -> None:
        super().__init__(messages[0])
        self.messages = messages


@dataclass(frozen=True)
class Param:
    """One query parameter: ``name`` in the URL, ``key`` in the parsed dict (default:
    ``name``), ``default`` when absent, ``required`` to refuse its absence."""

    name: str
    key: str = ""
    default: Any = None
    required: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.name)

    def convert(self, raw: str) -> Any:
        """The value of ``raw``, or :class:`Bad`."""
        raise NotImplementedError

    def schema(self) -> dict:
        """The value's OpenAPI schema."""
        raise NotImplementedError

    def openapi(self) -> OpenApiParameter:
        return OpenApiParameter(
            self.name,
            self.schema(),
            OpenApiParameter.QUERY,
            required=self.required,
            description=self.describe(),
        )

    def describe(self) -> str:
        return self.description


@dataclass(frozen=True)
class Int(Param):
    """An integer in ``[minimum, maximum]`` written as ``syntax`` allows; with
    ``max_chars``, a longer text (spaces around the digits) is refused as too long."""

    minimum: int | None = 1
    maximum: int | None = None
    syntax: re.Pattern = DIGITS
    invalid: str = INVALID_INTEGER
    max_chars: int | None = None

    def convert(self, raw: str) -> int:
        match = self.syntax.fullmatch(raw)
        if match is None:
            raise Bad(self.invalid)
        if self.max_chars is not None and len(raw) > self.max_chars:
            raise Bad(TOO_LONG_NUMBER)
        return _bounded(int(match.group(1)), self.minimum, self.maximum)

    def schema(self) -> dict:
        out: dict[str, Any] = {"type": "integer"}
        if self.maximum is not None:
            out["maximum"] = self.maximum
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.default is not None:
            out["default"] = self.default
        return out


@dataclass(frozen=True)
class Number(Param):
    """A finite decimal number in ``[minimum, maximum]`` (spaces around allowed)."""

    minimum: decimal.Decimal | None = None
    maximum: decimal.Decimal | None = None

    def convert(self, raw: str) -> decimal.Decimal:
        text = raw.strip()
        if len(text) > 1000:
            raise Bad(TOO_LONG_NUMBER)
        try:
            value = decimal.Decimal(text)
        except decimal.DecimalException:
            raise Bad(INVALID_NUMBER) from None
        if not value.is_finite():
            raise Bad(INVALID_NUMBER)
        return _bounded(value, self.minimum, self.maximum)

    def schema(self) -> dict:
        out: dict[str, Any] = {"type": "number", "format": "double"}
        if self.maximum is not None:
            out["maximum"] = _json_number(self.maximum)
        if self.minimum is not None:
            out["minimum"] = _json_number(self.minimum)
        return out


@dataclass(frozen=True)
class Choice(Param):
    """One of ``choices`` (a TextChoices class), exactly as written."""

    choices: Any = None

    @cached_property
    def _values(self) -> frozenset[str]:
        return frozenset(self.choices.values)

    def convert(self, raw: str) -> str:
        if raw not in self._values:
            raise Bad(INVALID_CHOICE.format(value=raw))
        return raw

    def schema(self) -> dict:
        return {"enum": list(self.choices.values), "type": "string", "minLength": 1}

    def describe(self) -> str:
        return self.description or build_choice_description_list(self.choices.choices)


@dataclass(frozen=True)
class Date(Param):
    """A calendar date, ``YYYY-MM-DD`` only."""

    def convert(self, raw: str) -> dt.date:
        value = parse_date(raw)
        if value is None:
            raise Bad(INVALID_DATE)
        return value

    def schema(self) -> dict:
        return {"type": "string", "format": "date"}


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(text: object) -> dt.date | None:
    """The date ``text`` names as ``YYYY-MM-DD`` (nothing else), else None."""
    if not isinstance(text, str) or not _DATE.match(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class DateTime(Param):
    """A point in time read by ``parse`` (a function returning None for text it cannot
    read), documented by ``openapi_schema``."""

    parse: Callable[[str], Any] | None = None
    openapi_schema: dict = field(default_factory=dict)
    invalid: str = ""

    def convert(self, raw: str) -> Any:
        value = self.parse(raw)
        if value is None:
            raise Bad(self.invalid)
        return value

    def schema(self) -> dict:
        return dict(self.openapi_schema)


@dataclass(frozen=True)
class FreeText(Param):
    """Free text as sent (not trimmed), at most ``max_length`` characters, no NUL."""

    max_length: int = 200

    def convert(self, raw: str) -> str:
        messages = []
        if len(raw) > self.max_length:
            messages.append(MAX_LENGTH.format(limit=self.max_length))
        if "\x00" in raw:
            messages.append(NUL_CHARACTERS)
        if messages:
            raise Bad(*messages)
        return raw

    def schema(self) -> dict:
        return {"type": "string", "pattern": NO_NUL, "maxLength": self.max_length}


def _bounded(value, minimum, maximum):
    if minimum is not None and value < minimum:
        raise Bad(MIN_VALUE.format(limit=minimum))
    if maximum is not None and value > maximum:
        raise Bad(MAX_VALUE.format(limit=maximum))
    return value


def _json_number(value: decimal.Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def refuse(name: str, message: str) -> Invalid:
    """The 400 for a rule across parameters, reported on ``name``."""
    return Invalid(f"{name} {message}", details=[{"field": name, "message": message}])


class Query:
    """A route's query parameters, in the order their errors are listed.

    ``blank_is_absent``: a parameter sent empty or blank (``?category=``) counts as not
    given, as the UI's query builders send them (events). ``check`` runs on the parsed
    dict when every parameter is valid: it returns the final dict or raises
    :func:`refuse`'s error (a rule across parameters)."""

    def __init__(
        self,
        *params: Param,
        blank_is_absent: bool = False,
        check: Callable[[dict], dict] | None = None,
    ) -> None:
        self.params = params
        self.blank_is_absent = blank_is_absent
        self.check = check

    def parse(self, params) -> dict:
        """The parsed dict of ``params`` (a QueryDict, or any mapping with ``get``
        returning the last value), or :class:`Invalid`."""
        out: dict[str, Any] = {}
        details: list[dict] = []
        for param in self.params:
            raw = params.get(param.name)
            if raw is not None and self.blank_is_absent and not raw.strip():
                raw = None
            if raw is None:
                if param.required:
                    details.append({"field": param.name, "message": REQUIRED})
                out[param.key] = param.default
                continue
            try:
                out[param.key] = param.convert(raw)
            except Bad as bad:
                details.extend({"field": param.name, "message": m} for m in bad.messages)
        if details:
            first = details[0]
            raise Invalid(f"{first['field']} {first['message']}", details=details)
        return self.check(out) if self.check is not None else out

    def parse_or_none(self, params) -> dict | None:
        """:meth:`parse`, or None where the view answers 400 (the hit path's parse)."""
        try:
            return self.parse(params)
        except Invalid:
            return None

    def openapi(self) -> list[OpenApiParameter]:
        """The parameters for ``@extend_schema(parameters=...)``."""
        return [param.openapi() for param in self.params]
