"""The festival's calendar, shared by the seed steps of events and experiences."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

FESTIVAL_MONTH = 7  # the Guelaguetza is held in July


def festival_year(today: dt.date | None = None) -> int:
    """The year of the next festival whose July is not over: demo data in the past
    could not be booked [F15], and a calendar that opens on last year's July is no demo."""
    today = today or timezone.localdate()
    return today.year if today <= dt.date(today.year, FESTIVAL_MONTH, 31) else today.year + 1
