"""The base of every API view (thin DRF viewsets, docs/architecture.md#views): two changes to DRF's
request cycle that must hold for all views, so they live here once.

1. Rate limits run before the permission check. DRF's order is authentication,
   permissions, throttles: a request refused with 401/403 never reached the limiter,
   so a client could probe a protected route without limit. Authentication still
   runs first (a signed-in user is limited per user, not per address).
2. A lost PostgreSQL connection is retried once or answered with a JSON 503
   (guelaguetza.api.dbretry), never a 500.

tests/test_api_views.py checks that every view routed under /api derives from these.
"""

from __future__ import annotations

from rest_framework import viewsets

from guelaguetza.api import dbretry


class ApiViewMixin:
    @classmethod
    def as_view(cls, *args, **initkwargs):
        return dbretry.retrying(super().as_view(*args, **initkwargs))

    def check_permissions(self, request) -> None:
        self._throttles_checked = True
        super().check_throttles(request)
        super().check_permissions(request)

    def check_throttles(self, request) -> None:
        if not getattr(self, "_throttles_checked", False):  # a view that skips permissions
            super().check_throttles(request)

    def handle_exception(self, exc):
        if dbretry.connection_lost(exc):
            raise exc  # to dbretry.retrying, around the whole view
        return super().handle_exception(exc)


class ApiGenericViewSet(ApiViewMixin, viewsets.GenericViewSet):
    pass


class ApiViewSet(ApiViewMixin, viewsets.ViewSet):
    pass
