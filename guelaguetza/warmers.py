"""What ``manage.py cache_warm`` fills: the reads behind the front end's first screens.

:data:`WARMERS` has one entry per key family: ``family -> reads(top)``, the reads to make
(``top``: how many of the most popular events and experiences get their detail warmed).
Each read is the public selector called exactly as its view calls it for an anonymous
visitor, so it goes through the normal cache-aside path: a miss loads once (single
flight) and is stored under the generations read *before* loading, so a write that
commits meanwhile still wins (the stale-set fence). Warming while the app serves is
therefore just one more reader. When a view's cached read changes, its entry here is
the one line to follow it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

from django.db.models import Count
from django.utils import timezone

from events import selectors as events
from events.models import Event
from events.serializers import EVENT_LIST_QUERY
from experiences import selectors as experiences
from experiences.models import Experience
from gamification import selectors as gamification

Read = Callable[[], object]


def month_query(today: dt.date | None = None) -> dict[str, str]:
    """The query EventsView sends for the current month: ``limit=50`` and the month's
    bounds as JS ISO strings (first day 00:00:00.000 to last day 23:59:59.999, UTC, as
    bench/load.py models it)."""
    today = today or timezone.now().date()
    start = dt.datetime(today.year, today.month, 1, tzinfo=dt.UTC)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(milliseconds=1)
    return {"startDate": _js_iso(start), "endDate": _js_iso(end), "limit": "50"}


def _js_iso(value: dt.datetime) -> str:
    """``Date.prototype.toISOString()``: milliseconds and a ``Z``."""
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _events_list_first_screen() -> object:
    # Parsed by the view's own declaration, so the key is the one the view builds.
    return events.events_list(**EVENT_LIST_QUERY.parse(month_query()))


def popular_event_ids(top: int) -> list[str]:
    """The ``top`` events with the most RSVPs (ties: the soonest first)."""
    rows = Event.objects.annotate(n=Count("rsvps")).order_by("-n", "start_date", "id")
    return list(rows.values_list("id", flat=True)[:top])


def popular_experience_ids(top: int) -> list[str]:
    """The ``top`` active experiences with the most bookings (ties: the newest first)."""
    rows = Experience.objects.filter(is_active=True).annotate(n=Count("bookings"))
    return list(rows.order_by("-n", "-created_at", "-id").values_list("id", flat=True)[:top])


WARMERS: dict[str, Callable[[int], list[Read]]] = {
    "leaderboard_page": lambda top: [partial(gamification.leaderboard_page, page=1, limit=20)],
    "events_list": lambda top: [_events_list_first_screen],
    "experiences_list": lambda top: [partial(experiences.experience_list, page=1, limit=10)],
    "badges_all": lambda top: [gamification.badges_all],
    "event_detail": lambda top: [
        partial(events.event_get, event_id=i) for i in popular_event_ids(top)
    ],
    "experience_detail": lambda top: [
        partial(experiences.experience_detail, experience_id=i) for i in popular_experience_ids(top)
    ],
}
