"""Django-level error views: JSON in the API.md 1.4 shape, never an HTML page.

Used for URLs no view matches (handler404 and the /api catch-all route), requests
Django rejects before routing (handler400/403) and unhandled errors (handler500).
"""

from django.http import JsonResponse

from guelaguetza.api.errors import BAD_REQUEST, INTERNAL_ERROR, NOT_FOUND, error_body

FORBIDDEN = "Acceso denegado"


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
