from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"

    def ready(self) -> None:
        # Cache-invalidation receivers are connected here (STYLE.md: signals only for
        # cache invalidation, wired in one visible place).
        pass
