"""Reads of docs/api.md#events, through the cache (docs/cache.md#key-tree).

Signed-in callers are served from the cache too: the list page and the detail are one
shared payload for everyone (``events:list:...``, ``event:{id}:detail``), and the caller's
own RSVP and reminder event-id sets live under ``user:{uid}:rsvps`` with the my-rsvps
payload. ``hasRSVP``/``hasReminder`` are overlaid per request, so a signed-in read at
steady state is two Redis round trips and no SQL.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from events import serializers as out
from events.models import Event, EventReminder, EventRSVP
from guelaguetza.cache import cache, keys
from guelaguetza.ids import possible_id
from guelaguetza.queries import related_count


def _with_rsvp_count(qs: QuerySet[Event]) -> QuerySet[Event]:
    return qs.annotate(rsvp_count=related_count(EventRSVP, "event"))


def events_list(
    *,
    category: str | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    page: int,
    limit: int,
    user_id: str | None = None,
    as_entry: bool = False,
):
    """``{events, hasMore, total}`` ordered by startDate; ``hasRSVP``/``hasReminder``
    on each event when ``user_id`` is given. ``as_entry``: ``(body bytes, etag)`` of
    the response instead, the caller's flags spliced into the stored bytes."""

    def load() -> dict:
        qs = Event.objects.all()
        if category:
            qs = qs.filter(category=category)
        if start is not None:
            qs = qs.filter(start_date__gte=start)
        if end is not None:
            qs = qs.filter(start_date__lte=end)
        total = qs.count()
        offset = (page - 1) * limit
        # The page's events first, then their generations (an RSVP on one of them
        # clears this page only), then their rows and counts.
        ids = list(
            qs.order_by("start_date", "id").values_list("id", flat=True)[offset : offset + limit]
        )
        _depends_on_events(ids)
        rows = list(_with_rsvp_count(Event.objects.filter(pk__in=ids).order_by("start_date", "id")))
        return {
            "events": [out.event_item(e, e.rsvp_count) for e in rows],
            "hasMore": offset + len(rows) < total,
            "total": total,
        }

    key = keys.events_list(category=category, start=start, end=end, page=page, limit=limit)
    if as_entry:
        return _response(cache.entry(key, load), user_id)
    payload = cache.wrap(key, load)
    if user_id is None:
        return payload
    mine = rsvp_ids(user_id=user_id)
    return {**payload, "events": _personalise(payload["events"], mine)}


def event_get(*, event_id: str, user_id: str | None = None, as_entry: bool = False):
    """EventDetail, or None when no event has this id (``as_entry``: ``(body, etag)``)."""
    if not possible_id(event_id):
        return None  # cannot be a stored id: no query, no key

    def load() -> dict | None:
        event = _with_rsvp_count(Event.objects.filter(pk=event_id)).first()
        return None if event is None else out.event_detail(event, event.rsvp_count)

    # Unknown ids are cached as null too: an Event saved under that id clears
    # event:{id}:* (event_changed), so the negative entry never outlives it.
    if as_entry:
        entry = cache.entry(keys.event_detail(event_id=event_id), load)
        return None if entry.body == b"null" else _response(entry, user_id)
    payload = cache.wrap(keys.event_detail(event_id=event_id), load)
    if payload is None or user_id is None:
        return payload
    return _personalise([payload], rsvp_ids(user_id=user_id))[0]


def rsvp_ids(*, user_id: str, as_entry: bool = False):
    """``{rsvpIds, reminderIds}``: the events the user RSVP'd to and has a reminder for
    (``user:{uid}:rsvpids``), which flag every events list and detail for them."""

    def load() -> dict:
        return {
            "rsvpIds": sorted(
                EventRSVP.objects.filter(user_id=user_id).values_list("event_id", flat=True)
            ),
            "reminderIds": sorted(
                EventReminder.objects.filter(user_id=user_id).values_list("event_id", flat=True)
            ),
        }

    return (cache.entry if as_entry else cache.wrap)(keys.user_rsvp_ids(user_id=user_id), load)


def user_rsvps(*, user_id: str, as_entry: bool = False):
    """The cached ``user:{uid}:rsvps`` value: ``{events, rsvpIds, reminderIds}``.

    ``events`` is the my-rsvps payload (EventItems with hasRSVP/hasReminder, startDate
    asc); the id lists are the event ids the user RSVP'd to / has a reminder for.
    The user's own RSVP/reminder changes clear it, and so does any change to an event it
    shows (anyone's RSVP included), through the events it records.
    """

    def load() -> dict:
        # Every event it shows is recorded: an RSVP of anyone on one of them, or an
        # edit, clears this value (its rsvpCount and fields are fresh, not 2 min old).
        _depends_on_events(
            EventRSVP.objects.filter(user_id=user_id).values_list("event_id", flat=True)
        )
        reminder_ids = sorted(
            EventReminder.objects.filter(user_id=user_id).values_list("event_id", flat=True)
        )
        reminders = set(reminder_ids)
        events = _with_rsvp_count(
            Event.objects.filter(rsvps__user_id=user_id).order_by("start_date", "id")
        )
        items = [
            {
                **out.event_item(e, e.rsvp_count),
                "hasRSVP": True,
                "hasReminder": e.id in reminders,
            }
            for e in events
        ]
        return {
            "events": items,
            "rsvpIds": [item["id"] for item in items],
            "reminderIds": reminder_ids,
        }

    return (cache.entry if as_entry else cache.wrap)(keys.user_rsvps(user_id=user_id), load)


def my_rsvps(*, user_id: str) -> dict:
    """GET /my-rsvps: ``{events, total}``, unpaginated."""
    events = user_rsvps(user_id=user_id)["events"]
    return {"events": events, "total": len(events)}


def _response(entry, user_id: str | None) -> tuple[bytes, str]:
    if user_id is None:
        return entry.body, entry.etag
    from guelaguetza.api.cached import personal_body

    return personal_body(entry, rsvp_ids(user_id=user_id, as_entry=True))


def _depends_on_events(event_ids) -> None:
    cache.depends_on(*(f"event:{event_id}" for event_id in event_ids))


def _personalise(items: list[dict], mine: dict) -> list[dict]:
    rsvps = set(mine["rsvpIds"])
    reminders = set(mine["reminderIds"])
    return [
        {**item, "hasRSVP": item["id"] in rsvps, "hasReminder": item["id"] in reminders}
        for item in items
    ]
