from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Cuentas"

    def ready(self) -> None:
        from accounts import schema  # noqa: F401  (registers the OpenAPI extension)
        from guelaguetza.cache import dependencies

        # Cache invalidation only: receivers derived from the registry's declarations.
        dependencies.connect(self)
