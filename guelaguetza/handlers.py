"""Django-level error views: JSON in the shape of docs/api.md#errors, never an HTML page.

Used for URLs no view matches (handler404 and the /api catch-all route), requests
Django rejects before routing (handler400/403) and unhandled errors (handler500).

The plain (non-DRF) views under /api are csrf_exempt, as DRF's views are: the API
authenticates with Bearer tokens, never with the admin's session cookie, so there is no
cross-site form to guard against. Without it CsrfViewMiddleware answers an unsafe method
with its HTML 403 before the view runs, whatever the middleware order.
"""

import functools

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from guelaguetza.api.errors import (
    BAD_REQUEST,
    INTERNAL_ERROR,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    error_body,
)

FORBIDDEN = "Acceso denegado"


def api_methods(*methods: str):
    """A plain view under /api: csrf_exempt, and the JSON 405 (with ``Allow``) for any
    other method instead of Django's empty-bodied one."""
    allowed = frozenset(methods)

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in allowed:
                response = JsonResponse(error_body(METHOD_NOT_ALLOWED), status=405)
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            return view(request, *args, **kwargs)

        return csrf_exempt(wrapper)

    return decorate


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    return JsonResponse(error_body(NOT_FOUND), status=404)


def bad_request(request, exception=None):
    return JsonResponse(error_body(BAD_REQUEST), status=400)


def forbidden(request, exception=None):
    return JsonResponse(error_body(FORBIDDEN), status=403)


def not_found(request, exception=None):
    return JsonResponse(error_body(NOT_FOUND), status=404)


def server_error(request):
    return JsonResponse(error_body(INTERNAL_ERROR), status=500)
