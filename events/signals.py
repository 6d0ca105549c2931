"""Cache invalidation only (STYLE.md): receivers compute ids and call the cache layer,
which defers every invalidation to transaction.on_commit. Connected in events/apps.py.
"""

from guelaguetza.cache import cache, keys


def rsvp_changed(sender, instance, **kwargs) -> None:
    cache.cascade("rsvp_changed", event_id=instance.event_id, user_id=instance.user_id)


def reminder_changed(sender, instance, **kwargs) -> None:
    cache.cascade("reminder_changed", user_id=instance.user_id)


def event_saved(sender, instance, created=False, raw=False, **kwargs) -> None:
    cache.cascade("event_changed", event_id=instance.pk)
    if not created and not raw:
        # The attendees' my-rsvps payloads embed this event.
        _delete_attendee_rsvps(instance.pk)


def event_deleted(sender, instance, **kwargs) -> None:
    # The attendees' user:{uid}:rsvps need no lookup here: Django's CASCADE deletes the
    # event's RSVPs and reminders one by one (their receivers are connected, so it
    # cannot fast-delete), and each sends its own post_delete to the receivers above.
    cache.cascade("event_changed", event_id=instance.pk)


def _delete_attendee_rsvps(event_id: str) -> None:
    from events.models import EventRSVP

    user_ids = EventRSVP.objects.filter(event_id=event_id).values_list("user_id", flat=True)
    cache.delete_many(keys.user_rsvps(user_id=uid) for uid in user_ids)
