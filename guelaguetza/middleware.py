"""Project middleware: the admin-only inner stack and JSON errors outside DRF.

Request metrics live in guelaguetza/observability/middleware.py.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.http import JsonResponse
from django.utils.module_loading import import_string

from guelaguetza.api.errors import INTERNAL_ERROR, api_error_for, error_body

logger = logging.getLogger(__name__)


class AdminOnlyMiddleware:
    """Runs settings.ADMIN_MIDDLEWARE (sessions, CSRF, auth, messages, clickjacking,
    WhiteNoise) only for paths under settings.ADMIN_MIDDLEWARE_PATHS (/admin/, /static/).

    API requests never use a session, a CSRF cookie or Django's login, and paying for
    six middleware on each of them is most of what a cache hit costs
    (README.md#performance). The inner stack is built the way Django builds
    settings.MIDDLEWARE, and this middleware forwards Django's process_view and
    process_exception hooks to it (CsrfViewMiddleware checks the token in process_view),
    so for the admin the result is the stack it had when these middleware were listed in
    settings.MIDDLEWARE.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefixes = tuple(settings.ADMIN_MIDDLEWARE_PATHS)
        self.view_hooks = []
        self.exception_hooks = []
        handler = get_response
        for path in reversed(settings.ADMIN_MIDDLEWARE):
            try:
                instance = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(instance, "process_view"):
                self.view_hooks.insert(0, instance.process_view)
            if hasattr(instance, "process_exception"):
                self.exception_hooks.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self.inner = handler

    def _is_admin(self, request) -> bool:
        return request.path_info.startswith(self.prefixes)

    def __call__(self, request):
        if self._is_admin(request):
            return self.inner(request)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not self._is_admin(request):
            return None
        for hook in self.view_hooks:
            response = hook(request, view_func, view_args, view_kwargs)
            if response is not None:
                return response
        return None

    def process_exception(self, request, exception):
        if not self._is_admin(request):
            return None
        for hook in self.exception_hooks:
            response = hook(request, exception)
            if response is not None:
                return response
        return None


class ApiExceptionMiddleware:
    """An exception escaping a non-DRF view under /api becomes the contract's JSON error
    (docs/api.md#errors) even with DEBUG on: a domain error or a Django ValidationError
    its 4xx, as DRF views answer it through the exception handler, anything else a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not request.path.startswith("/api"):
            return None
        refused = api_error_for(exception)
        if refused is not None:
            return JsonResponse(
                refused.to_body(), status=refused.status_code, headers=refused.headers
            )
        from guelaguetza.api import dbretry

        if dbretry.connection_lost(exception):  # PostgreSQL went away: 503, not 500
            logger.warning("database connection lost on %s", request.path)
            dbretry.drop_connection()
            return dbretry.unavailable()
        logger.exception("Unhandled error on %s", request.path)
        return JsonResponse(error_body(INTERNAL_ERROR), status=500)
