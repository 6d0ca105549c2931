from django.apps import AppConfig


class GuelaguetzaConfig(AppConfig):
    """The project package as an app: shared management commands (cache_*, seed_demo)."""

    name = "guelaguetza"
    verbose_name = "Guelaguetza Connect"
