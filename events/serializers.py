"""Input validation (query and body) and the JSON payloads of docs/api.md#events.

Output payloads are plain dicts built once by the selectors' loaders and cached as is, so
a cache hit costs no serializer work.
"""

from __future__ import annotations

import datetime as dt
import re
from email.utils import parsedate_to_datetime

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from events.models import Event, EventCategory
from guelaguetza.api.fields import JsonBody
from guelaguetza.api.formats import iso

INVALID_DATE = "Fecha inválida"
INVALID_INTEGER = "Debe ser un número entero"

MAX_PAGE = 100_000  # keeps OFFSET far from overflow and the key space bounded
MAX_LIMIT = 50
DEFAULT_LIMIT = 20

_INTEGER = re.compile(r"^\s*\+?(\d{1,9})\s*$")
# "+02:00" in an unencoded query string arrives as " 02:00".
# JavaScript also parses a bare year or year-month (as UTC midnight of its first day).
_YEAR_MONTH = re.compile(r"^(\d{4})(?:-(\d{2}))?$")
_SPACE_OFFSET = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


def parse_datetime_lenient(value: object) -> dt.datetime | None:
    """A timezone-aware UTC datetime from what a JS client sends, else None.

    Accepts ISO 8601 with or without milliseconds and offset (``Z`` included), a plain
    date (midnight UTC, as JavaScript's ``new Date("2026-07-01")``) and RFC 2822
    (``Date.prototype.toUTCString``). A value without offset is read as UTC.
    """
    if not isinstance(value, str):
        return None
    text = _SPACE_OFFSET.sub(r"\1+\2", value.strip())
    if not text or len(text) > 64:
        return None
    parsed: dt.datetime | None
    year_month = _YEAR_MONTH.match(text)
    if year_month:
        text = f"{year_month.group(1)}-{year_month.group(2) or '01'}-01"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        return parsed.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None


@extend_schema_field(
    {
        "type": "string",
        "anyOf": [
            {"format": "date-time"},
            {"format": "date"},
            {"pattern": "^(?!0000)\\d{4}(-(0[1-9]|1[0-2]))?$"},
        ],
        "description": "ISO 8601 (offset optional: UTC), a date, a year or year-month, "
        "or an RFC 2822 date",
    }
)
class LenientDateTimeField(serializers.Field):
    default_error_messages = {"invalid": INVALID_DATE}

    def to_internal_value(self, data):
        parsed = parse_datetime_lenient(data)
        if parsed is None:
            self.fail("invalid")
        return parsed

    def to_representation(self, value):
        return iso(value)


class StrictIntegerField(serializers.IntegerField):
    """Digits only [F12]: "1.5", "2.0", "1e3" and "abc" are all 400s."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int):
            return super().to_internal_value(data)
        match = _INTEGER.match(data) if isinstance(data, str) else None
        if match is None:
            self.fail("invalid")
        return super().to_internal_value(int(match.group(1)))


class EventListQuerySerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=EventCategory.choices, required=False)
    startDate = LenientDateTimeField(required=False)
    endDate = LenientDateTimeField(required=False)
    page = StrictIntegerField(required=False, default=1, min_value=1, max_value=MAX_PAGE)
    limit = StrictIntegerField(
        required=False, default=DEFAULT_LIMIT, min_value=1, max_value=MAX_LIMIT
    )

    default_error_messages = {"invalid": "Parámetros inválidos"}

    def __init__(self, *args, data=None, **kwargs):
        if data is not None:
            # An empty parameter (``?category=``) means "not given", as in the UI's
            # query builders; a repeated parameter takes its last value.
            data = {k: v for k, v in data.items() if v.strip() != ""}
        super().__init__(*args, data=data, **kwargs)


class ReminderBodySerializer(JsonBody):
    remindAt = LenientDateTimeField()


def event_item(event: Event, rsvp_count: int) -> dict:
    """EventItem (docs/api.md#shape-eventitem) without the caller's own hasRSVP/hasReminder."""
    return {
        "id": event.id,
        "title": event.title,
        "description": event.description,
        "imageUrl": event.image_url,
        "location": event.location,
        "latitude": event.latitude,
        "longitude": event.longitude,
        "startDate": iso(event.start_date),
        "endDate": iso(event.end_date),
        "category": event.category,
        "isOfficial": event.is_official,
        "rsvpCount": rsvp_count,
    }


def event_detail(event: Event, rsvp_count: int) -> dict:
    """EventDetail = EventItem + createdAt, updatedAt."""
    return {
        **event_item(event, rsvp_count),
        "createdAt": iso(event.created_at),
        "updatedAt": iso(event.updated_at),
    }
