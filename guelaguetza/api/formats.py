"""Wire formats (docs/api.md#serialization): JS-style ISO timestamps, slot dates, money strings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


def iso(value: dt.datetime | None) -> str | None:
    """``2026-07-20T18:00:00.000Z`` (UTC, milliseconds), as JavaScript's toISOString."""
    if value is None:
        return None
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def iso_date(value: dt.date | None) -> str | None:
    """A DB date as midnight UTC, the form the original backend sends for slot dates."""
    if value is None:
        return None
    return f"{value.isoformat()}T00:00:00.000Z"


def money(value: Decimal | None) -> str | None:
    """Money as a JSON string ("450.00"); the UI applies parseFloat."""
    return None if value is None else f"{value:.2f}"


def hhmm(value: dt.time | None) -> str | None:
    return None if value is None else value.strftime("%H:%M")
