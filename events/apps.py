from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"

    def ready(self) -> None:
        # Cache invalidation only (signals are for nothing else): the receivers of every
        # model a key family shows are derived from the registry's declarations.
        from guelaguetza.cache import dependencies

        dependencies.connect(self)
