"""Input rules (the list's query, a guelaguetza.api.query declaration; the reminder
body) and the JSON payloads of docs/api.md#events.

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
from guelaguetza.api.query import UNSIGNED, Choice, DateTime, Int, Query

INVALID_DATE = "Fecha inválida"

MAX_PAGE = 100_000  # keeps OFFSET far from overflow and the key space bounded
MAX_LIMIT = 50
DEFAULT_LIMIT = 20

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


# What parse_datetime_lenient reads, for the OpenAPI schema.
LENIENT_DATETIME = {
    "type": "string",
    "anyOf": [
        {"format": "date-time"},
        {"format": "date"},
        {"pattern": "^(?!0000)\\d{4}(-(0[1-9]|1[0-2]))?$"},
    ],
}
LENIENT_DATETIME_TEXT = (
    "ISO 8601 (offset optional: UTC), a date, a year or year-month, or an RFC 2822 date"
)


@extend_schema_field({**LENIENT_DATETIME, "description": LENIENT_DATETIME_TEXT})
class LenientDateTimeField(serializers.Field):
    default_error_messages = {"invalid": INVALID_DATE}

    def to_internal_value(self, data):
        parsed = parse_datetime_lenient(data)
        if parsed is None:
            self.fail("invalid")
        return parsed

    def to_representation(self, value):
        return iso(value)


def _lenient(name: str, key: str) -> DateTime:
    return DateTime(
        name,
        key=key,
        parse=parse_datetime_lenient,
        openapi_schema=LENIENT_DATETIME,
        invalid=INVALID_DATE,
        description=LENIENT_DATETIME_TEXT,
    )


# Integers only [F12]: "1.5", "2.0", "1e3" and "abc" are all 400s ("+2" and " 2" are 2).
# An empty parameter (``?category=``) means "not given", as in the UI's query builders.
EVENT_LIST_QUERY = Query(
    Choice("category", choices=EventCategory),
    _lenient("startDate", "start"),
    _lenient("endDate", "end"),
    Int("page", default=1, maximum=MAX_PAGE, syntax=UNSIGNED),
    Int("limit", default=DEFAULT_LIMIT, maximum=MAX_LIMIT, syntax=UNSIGNED),
    blank_is_absent=True,
)


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
