from django.apps import AppConfig
from django.db.models import signals


class EventsConfig(AppConfig):
    name = "events"

    def ready(self) -> None:
        # Cache-invalidation receivers are connected here (STYLE.md: signals only for
        # cache invalidation, wired in one visible place).
        from events import signals as receivers
        from events.models import Event, EventReminder, EventRSVP

        for signal, name in ((signals.post_save, "save"), (signals.post_delete, "delete")):
            signal.connect(
                receivers.rsvp_changed, sender=EventRSVP, dispatch_uid=f"events.rsvp.{name}"
            )
            signal.connect(
                receivers.reminder_changed,
                sender=EventReminder,
                dispatch_uid=f"events.reminder.{name}",
            )
        signals.post_save.connect(
            receivers.event_saved, sender=Event, dispatch_uid="events.event.save"
        )
        signals.post_delete.connect(
            receivers.event_deleted, sender=Event, dispatch_uid="events.event.delete"
        )
