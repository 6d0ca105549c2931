"""One router style for every app: DRF routers without trailing slashes (docs/api.md#routing)."""

from rest_framework.routers import SimpleRouter


def router() -> SimpleRouter:
    return SimpleRouter(trailing_slash=False)
