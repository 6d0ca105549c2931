"""Error bodies (docs/api.md#errors) [F2], for every error under /api.

Every JSON error carries ``success: false`` and the same Spanish text in ``error`` and
``message``; validation errors add ``details: [{field, message}]``. Services and
selectors raise the domain errors of :mod:`guelaguetza.errors` (or Django's
ValidationError), API code :class:`ApiError` or a DRF exception; :func:`api_error_for`
is the one place that gives a domain error its status and body, and views never build
error responses by hand.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from guelaguetza import errors as domain

logger = logging.getLogger(__name__)

INTERNAL_ERROR = "Error interno del servidor"
UNAUTHORIZED = "No autorizado"
NOT_FOUND = "Recurso no encontrado"
METHOD_NOT_ALLOWED = "Método no permitido"
INVALID_JSON = "JSON inválido"
VALIDATION_ERROR = "Error de validación"
BAD_REQUEST = "Solicitud inválida"
TOO_LARGE = "La solicitud es demasiado grande"
SERVICE_UNAVAILABLE = "Servicio no disponible temporalmente. Intenta de nuevo en unos segundos."


def error_body(message: str, *, details: list[dict] | None = None, **extra: Any) -> dict:
    body: dict[str, Any] = {"success": False, "error": message, "message": message}
    if details is not None:
        body["details"] = details
    body.update(extra)
    return body


class ApiError(Exception):
    """An error with the contract's exact status and message (docs/api.md#errors).

    ``body`` replaces the standard shape where the contract fixes another one (the 409
    ConcurrencyError body keeps exactly ``error``, ``message`` and ``hint``).
    """

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        details: list[dict] | None = None,
        body: dict | None = None,
        headers: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.details = details
        self.body = body
        self.headers = headers or {}

    def to_body(self) -> dict:
        if self.body is not None:
            return self.body
        return error_body(self.message, details=self.details)


# The status of each domain error class; a subclass not listed takes its nearest
# listed base's (Mismatch is an Invalid the contract answers with 422).
DOMAIN_STATUS: dict[type[domain.DomainError], int] = {
    domain.Invalid: 400,
    domain.Mismatch: 422,
    domain.Unauthenticated: 401,
    domain.Forbidden: 403,
    domain.NotFound: 404,
    domain.Conflict: 409,
}


def api_error_for(exc: BaseException) -> ApiError | None:
    """The contract's answer to a domain error or a Django ValidationError (a model's
    full_clean in a service), else None."""
    if isinstance(exc, domain.ConcurrentUpdate):
        # The one 409 with its own body: exactly these three keys (create booking).
        body = {"error": "ConcurrencyError", "message": exc.message, "hint": exc.hint}
        return ApiError(409, exc.message, body=body)
    if isinstance(exc, domain.DomainError):
        status_code = next(DOMAIN_STATUS[cls] for cls in type(exc).__mro__ if cls in DOMAIN_STATUS)
        return ApiError(status_code, exc.message, details=exc.details)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            # Django's NON_FIELD_ERRORS ("__all__") is DRF's non_field_errors: no field.
            detail: Any = {
                ("non_field_errors" if field == NON_FIELD_ERRORS else field): messages
                for field, messages in exc.message_dict.items()
            }
        else:
            detail = exc.messages
        details = validation_details(detail)
        return ApiError(400, _first_message(details), details=details)
    return None


def validation_details(detail: Any, prefix: str = "") -> list[dict]:
    """Flatten DRF's nested ValidationError detail into ``[{field, message}]``."""
    if isinstance(detail, dict):
        out: list[dict] = []
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            field = f"{prefix}.{name}" if prefix and name else (name or prefix)
            out.extend(validation_details(value, field))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [{"field": prefix, "message": str(item)} for item in detail]
        out = []
        for index, item in enumerate(detail):
            out.extend(validation_details(item, f"{prefix}[{index}]" if prefix else str(index)))
        return out
    return [{"field": prefix, "message": str(detail)}]


def _first_message(details: list[dict]) -> str:
    """``"<field> <message>"`` of the first invalid field (the body's error/message)."""
    first = details[0] if details else {"field": "", "message": VALIDATION_ERROR}
    return f"{first['field']} {first['message']}".strip()


def validation_response(detail: Any, *, status_code: int = 400, message: str | None = None):
    details = validation_details(detail)
    if message is None:
        message = _first_message(details)
    return Response(error_body(message, details=details), status=status_code)


def exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's EXCEPTION_HANDLER: map every exception to the error shape of docs/api.md#errors."""
    exc = api_error_for(exc) or exc
    if isinstance(exc, ApiError):
        return Response(exc.to_body(), status=exc.status_code, headers=exc.headers)
    if isinstance(exc, RequestDataTooBig):  # a body over DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(error_body(TOO_LARGE), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):  # e.g. TooManyFieldsSent: Django's own 400
        return Response(error_body(BAD_REQUEST), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(NOT_FOUND)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.ValidationError):
        return validation_response(exc.detail)
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait))
        message = _message_for(exc)
        return Response(error_body(message), status=exc.status_code, headers=headers)

    from guelaguetza.api import dbretry  # imports this module

    if dbretry.connection_lost(exc):
        # API views retry or answer this themselves (guelaguetza.api.views); any other
        # DRF view still gets the 503, not a 500, and the next request a new connection.
        dbretry.drop_connection()
        retry_after = {"Retry-After": str(dbretry.RETRY_AFTER_SECONDS)}
        return Response(error_body(SERVICE_UNAVAILABLE), status=503, headers=retry_after)
    logger.exception("Unhandled error in %s", context.get("view"))
    return Response(error_body(INTERNAL_ERROR), status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def _message_for(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return UNAUTHORIZED
    if isinstance(exc, exceptions.MethodNotAllowed):
        return METHOD_NOT_ALLOWED
    if isinstance(exc, exceptions.ParseError):
        return INVALID_JSON
    if isinstance(exc.detail, dict | list):
        details = validation_details(exc.detail)
        return details[0]["message"] if details else str(exc.default_detail)
    return str(exc.detail)
