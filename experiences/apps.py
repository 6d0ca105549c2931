from django.apps import AppConfig


class ExperiencesConfig(AppConfig):
    name = "experiences"

    def ready(self) -> None:
        # Cache invalidation only: the receivers of every model a key family shows are
        # derived from the registry's declarations. Writes that fire no signal (the
        # slot's conditional UPDATE, bulk_create) invalidate in the service.
        from guelaguetza.cache import dependencies

        dependencies.connect(self)
