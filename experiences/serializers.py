"""Input rules (the queries as guelaguetza.api.query declarations, bodies as DRF
serializers) and the JSON shapes of docs/api.md#shapes and
docs/api.md#bookings.

Output shapes are plain functions returning JSON-ready dicts: selectors cache exactly
what they return, so a cache hit costs no ORM or serializer work.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from experiences.models import BookingStatus, ExperienceCategory
from guelaguetza.api.fields import JsonBody, UrlField
from guelaguetza.api.formats import hhmm, iso, iso_date, money
from guelaguetza.api.query import (
    INVALID_DATE,
    SIGNED,
    Choice,
    Date,
    FreeText,
    Int,
    Number,
    Query,
    parse_date,
    refuse,
)

if TYPE_CHECKING:
    from accounts.models import User

MAX_LIMIT = 50
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


# --- input ---------------------------------------------------------------------------------
@extend_schema_field(OpenApiTypes.DATE)
class StrictDateField(serializers.Field):
    """``YYYY-MM-DD`` only (as the query's dates, guelaguetza.api.query.Date)."""

    default_error_messages = {"invalid": INVALID_DATE}

    def to_internal_value(self, data):
        value = parse_date(data)
        if value is None:
            self.fail("invalid")
        return value

    def to_representation(self, value):
        return value.isoformat()


@extend_schema_field({"type": "string", "pattern": "^([01]\\d|2[0-3]):[0-5]\\d$"})
class HHMMField(serializers.Field):
    """``HH:mm`` with 00-23 hours and 00-59 minutes [F20]."""

    default_error_messages = {"invalid": "Hora inválida, usa HH:mm"}

    def to_internal_value(self, data):
        if not isinstance(data, str) or not _HHMM.match(data):
            self.fail("invalid")
        hour, minute = data.split(":")
        return dt.time(int(hour), int(minute))

    def to_representation(self, value):
        return hhmm(value)


class StrictIntegerField(serializers.IntegerField):
    """An integer that refuses fractions and booleans, in bodies and in query strings."""

    def to_internal_value(self, data):
        if isinstance(data, bool | float):
            self.fail("invalid")
        if isinstance(data, str) and not re.fullmatch(r"-?\d{1,9}", data.strip()):
            self.fail("invalid")
        return super().to_internal_value(data)


class IdField(serializers.CharField):
    """Ids are opaque strings (docs/api.md#ids): any non-empty one is looked up, and one that
    cannot exist (too long, say, or " <id>") is simply not found: 404, like an unknown id.
    Not trimmed: the schema's minLength is the raw string's."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)


class Text(serializers.CharField):
    """Input text as sent: lengths count the raw string, as the OpenAPI schema states
    them (the original backend did not trim either)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)


MAX_PRICE = Decimal("99999999.99")  # decimal(10,2)


# A money string as the API sends it ("450.00"), from 0.01 up: clients may send back a
# price they received.
_MONEY_TEXT = r"^(?!0*(\.0*)?$)[0-9]{1,8}(\.[0-9]{1,2})?$"


@extend_schema_field(
    {
        "oneOf": [
            {"type": "number", "minimum": 0.01, "maximum": 99999999.99},
            {"type": "string", "pattern": _MONEY_TEXT},
        ],
        "description": "A number (rounded half-up to cents) or a money string",
    }
)
class MoneyField(serializers.DecimalField):
    """A price (a number > 0), rounded half-up to the column's cents, as
    PostgreSQL's numeric(10,2) rounds: 0.015 is 0.02 rather than a 400 the schema
    cannot announce. Bounded so the rounded value fits the column. Text must be a
    money string of at most two decimals."""

    json_type = "any"  # a number or a string: checked here

    def __init__(self, **kwargs):
        super().__init__(
            max_digits=None,
            decimal_places=None,
            coerce_to_string=False,
            min_value=Decimal("0.01"),
            max_value=MAX_PRICE,
            **kwargs,
        )

    def to_internal_value(self, data):
        if isinstance(data, bool) or (
            isinstance(data, str) and not re.fullmatch(_MONEY_TEXT, data)
        ):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if not Decimal("0.01") <= value <= MAX_PRICE:
            return value  # the min/max validators answer (quantize would overflow)
        return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- queries (guelaguetza/api/query.py) ---------------------------------------------------
PRICE_BOUND = Decimal("1e12")
# Integers may carry a minus (then below the minimum: 400) and spaces around.
_PAGE = Int("page", default=1, maximum=100_000, syntax=SIGNED, max_chars=1000)
_LIMIT = Int("limit", default=10, maximum=MAX_LIMIT, syntax=SIGNED, max_chars=1000)

EXPERIENCE_LIST_QUERY = Query(
    _PAGE,
    _LIMIT,
    Choice("category", choices=ExperienceCategory),
    # Price bounds are any finite numbers (docs/api.md#get-experiences says "numbers"),
    # bounded so that any value compares with the decimal(10,2) column.
    Number("minPrice", key="min_price", minimum=-PRICE_BOUND, maximum=PRICE_BOUND),
    Number("maxPrice", key="max_price", minimum=-PRICE_BOUND, maximum=PRICE_BOUND),
    Date("date"),
    FreeText("search", max_length=200),
)


def _slot_range(query: dict) -> dict:
    """endDate defaults to startDate, is not before it and at most a year after it; the
    selector and its cache key take both as ``YYYY-MM-DD`` strings."""
    start, end = query["start"], query["end"] or query["start"]
    if end < start:
        raise refuse("endDate", "endDate debe ser >= startDate")
    if (end - start).days > 366:
        raise refuse("endDate", "El rango máximo es de un año")
    return {"start": start.isoformat(), "end": end.isoformat()}


SLOTS_QUERY = Query(
    Date("startDate", key="start", required=True),
    Date(
        "endDate",
        key="end",
        description="Defaults to startDate; not before it and at most a year (366 days) "
        "after it, else 400.",
    ),
    check=_slot_range,
)

BOOKING_LIST_QUERY = Query(_PAGE, _LIMIT, Choice("status", choices=BookingStatus))  # [F19]


class BookingCreateSerializer(JsonBody):
    experienceId = IdField()
    timeSlotId = IdField()
    guestCount = StrictIntegerField(min_value=1, max_value=1000, default=1)
    specialRequests = Text(max_length=500, required=False, allow_null=True, allow_blank=True)


class ExperienceCreateSerializer(JsonBody):
    title = Text(min_length=3, max_length=100)
    description = Text(min_length=10, max_length=2000)
    imageUrl = UrlField(max_length=500, required=False, allow_null=True)
    images = serializers.ListField(child=UrlField(max_length=500), max_length=20, default=list)
    category = serializers.ChoiceField(choices=ExperienceCategory.choices)
    price = MoneyField()
    duration = StrictIntegerField(min_value=1, max_value=60 * 24 * 30)
    maxCapacity = StrictIntegerField(min_value=1, max_value=100_000)
    location = Text(min_length=3, max_length=200)
    latitude = serializers.FloatField(min_value=-90, max_value=90, required=False, allow_null=True)
    longitude = serializers.FloatField(
        min_value=-180, max_value=180, required=False, allow_null=True
    )
    includes = serializers.ListField(child=Text(max_length=200), max_length=50, default=list)
    languages = serializers.ListField(
        child=Text(max_length=50), max_length=20, default=lambda: ["Español"]
    )


class ExperienceUpdateSerializer(ExperienceCreateSerializer):
    isActive = serializers.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)


# API names -> model fields, for create and partial update.
EXPERIENCE_FIELDS = {
    "title": "title",
    "description": "description",
    "imageUrl": "image_url",
    "images": "images",
    "category": "category",
    "price": "price",
    "duration": "duration",
    "maxCapacity": "max_capacity",
    "location": "location",
    "latitude": "latitude",
    "longitude": "longitude",
    "includes": "includes",
    "languages": "languages",
    "isActive": "is_active",
}


class SlotInputSerializer(JsonBody):
    date = StrictDateField()
    startTime = HHMMField()
    endTime = HHMMField()
    capacity = StrictIntegerField(min_value=1, max_value=100_000, required=False)

    def validate(self, attrs):
        if attrs["endTime"] <= attrs["startTime"]:
            raise serializers.ValidationError({"endTime": "endTime debe ser posterior a startTime"})
        return attrs


class SlotsCreateSerializer(JsonBody):
    slots = SlotInputSerializer(many=True, allow_empty=False, max_length=200)

    def validate_slots(self, slots):
        seen = set()
        for slot in slots:
            pair = (slot["date"], slot["startTime"])
            if pair in seen:
                raise serializers.ValidationError("Horarios duplicados en la solicitud")
            seen.add(pair)
        return slots


class ReviewCreateSerializer(JsonBody):
    rating = StrictIntegerField(min_value=1, max_value=5)
    comment = Text(max_length=1000, required=False, allow_null=True, allow_blank=True)


# --- output --------------------------------------------------------------------------------
def host_summary(user: User) -> dict:
    return {"id": user.id, "nombre": user.nombre, "apellido": user.apellido, "avatar": user.avatar}


def experience_row(exp) -> dict:
    return {
        "id": exp.id,
        "hostId": exp.host_id,
        "title": exp.title,
        "description": exp.description,
        "imageUrl": exp.image_url,
        "images": list(exp.images or []),
        "category": exp.category,
        "price": money(exp.price),
        "duration": exp.duration,
        "maxCapacity": exp.max_capacity,
        "location": exp.location,
        "latitude": exp.latitude,
        "longitude": exp.longitude,
        "includes": list(exp.includes or []),
        "languages": list(exp.languages or []),
        "isActive": exp.is_active,
        "rating": float(exp.rating),
        "reviewCount": exp.review_count,
        "createdAt": iso(exp.created_at),
        "updatedAt": iso(exp.updated_at),
    }


def experience_with_host(exp) -> dict:
    return {**experience_row(exp), "host": host_summary(exp.host)}


def slot_row(slot) -> dict:
    return {
        "id": slot.id,
        "experienceId": slot.experience_id,
        "date": iso_date(slot.date),
        "startTime": hhmm(slot.start_time),
        "endTime": hhmm(slot.end_time),
        "capacity": slot.capacity,
        "bookedCount": slot.booked_count,
        "isAvailable": slot.is_available,
        "version": slot.version,
        "createdAt": iso(slot.created_at),
    }


def booking_row(booking) -> dict:
    return {
        "id": booking.id,
        "userId": booking.user_id,
        "experienceId": booking.experience_id,
        "timeSlotId": booking.time_slot_id,
        "status": booking.status,
        "guestCount": booking.guest_count,
        "totalPrice": money(booking.total_price),
        "specialRequests": booking.special_requests,
        "stripePaymentId": booking.stripe_payment_id,
        "confirmedAt": iso(booking.confirmed_at),
        "cancelledAt": iso(booking.cancelled_at),
        "createdAt": iso(booking.created_at),
        "updatedAt": iso(booking.updated_at),
    }


def booking_full(booking) -> dict:
    """BookingRow + experience (ExperienceRow + host) + timeSlot."""
    return {
        **booking_row(booking),
        "experience": experience_with_host(booking.experience),
        "timeSlot": slot_row(booking.time_slot),
    }


def review_with_user(review) -> dict:
    return {
        "id": review.id,
        "userId": review.user_id,
        "experienceId": review.experience_id,
        "rating": review.rating,
        "comment": review.comment,
        "createdAt": iso(review.created_at),
        "user": {"id": review.user.id, "nombre": review.user.nombre, "avatar": review.user.avatar},
    }


def pagination(*, page: int, limit: int, total: int) -> dict:
    return {"page": page, "limit": limit, "total": total, "totalPages": -(-total // limit)}
