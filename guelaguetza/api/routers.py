"""One router style for every app: DRF routers without trailing slashes (API.md 1.1)."""

from rest_framework.routers import SimpleRouter


def router() -> SimpleRouter:
    return SimpleRouter(trailing_slash=False)
