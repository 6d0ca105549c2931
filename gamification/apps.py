from django.apps import AppConfig


class GamificationConfig(AppConfig):
    name = "gamification"

    def ready(self) -> None:
        # Cache invalidation only (business effects are service calls): the receivers
        # of every model a key family shows are derived from the registry's declarations.
        from guelaguetza.cache import dependencies

        dependencies.connect(self)
