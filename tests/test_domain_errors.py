"""Domain errors (guelaguetza/errors.py) and Django's ValidationError, raised by business
code, reach API clients as the contract's status and body (docs/api.md#errors), from
DRF views and plain views alike; the mapping lives in guelaguetza/api/errors.py only."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import path
from rest_framework.views import APIView

from guelaguetza import errors as domain
from guelaguetza import urls as project_urls
from guelaguetza.api.errors import api_error_for
from tests.factories import TimeSlotFactory
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

REFUSALS = {
    "invalid": (domain.Invalid("Este horario ya no está disponible"), 400),
    "mismatch": (domain.Mismatch("La clave de idempotencia ya se usó con otra solicitud"), 422),
    "unauthenticated": (domain.Unauthenticated("Credenciales inválidas"), 401),
    "forbidden": (domain.Forbidden("No tienes permiso para ver esta reservación"), 403),
    "not-found": (domain.NotFound("Evento no encontrado"), 404),
    "conflict": (domain.Conflict("Ya tienes una reservación activa para este horario"), 409),
}
CONCURRENT = domain.ConcurrentUpdate("El horario ha sido modificado", hint="Recarga")


def _slot_with_end_before_start():
    """A real model ValidationError, as a service's full_clean would raise it."""
    slot = TimeSlotFactory.build(start_time=dt.time(12, 0), end_time=dt.time(10, 0))
    slot.full_clean(exclude=["experience"])


def _raise(name: str):
    if name == "concurrent":
        raise CONCURRENT
    if name == "validation":
        _slot_with_end_before_start()
    raise REFUSALS[name][0]


class RefusingApi(APIView):
    def get(self, request, name):
        _raise(name)


def refusing_plain(request, name):
    _raise(name)


urlpatterns = [
    path("api/test-refuse-drf/<str:name>", RefusingApi.as_view()),
    path("api/test-refuse-plain/<str:name>", refusing_plain),
    *project_urls.urlpatterns,
]
handler404 = project_urls.handler404
handler500 = project_urls.handler500
KINDS = ["drf", "plain"]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", list(REFUSALS))
def test_each_domain_error_is_its_status_with_the_standard_body(kind, name):
    exc, status = REFUSALS[name]
    response = Client(raise_request_exception=False).get(f"/api/test-refuse-{kind}/{name}")
    body = assert_error(response, status, exc.message)
    assert "details" not in body


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("kind", KINDS)
def test_a_concurrent_update_is_409_with_exactly_the_concurrency_error_body(kind):
    response = Client(raise_request_exception=False).get(f"/api/test-refuse-{kind}/concurrent")
    assert response.status_code == 409
    assert response.json() == {
        "error": "ConcurrencyError",
        "message": "El horario ha sido modificado",
        "hint": "Recarga",
    }


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("kind", KINDS)
def test_a_django_validation_error_from_full_clean_is_400_with_details_not_500(kind):
    response = Client(raise_request_exception=False).get(f"/api/test-refuse-{kind}/validation")
    body = assert_error(response, 400, "end_time endTime debe ser posterior a startTime")
    assert body["details"] == [
        {"field": "end_time", "message": "endTime debe ser posterior a startTime"}
    ]


def test_a_validation_error_without_a_field_has_an_empty_field():
    answer = api_error_for(ValidationError("Horarios duplicados"))
    assert (answer.status_code, answer.message) == (400, "Horarios duplicados")
    answer = api_error_for(ValidationError({"__all__": ["Horarios duplicados"]}))
    assert answer.to_body()["details"] == [{"field": "", "message": "Horarios duplicados"}]


def test_domain_error_details_are_kept_in_the_body():
    details = [{"field": "guestCount", "message": "Solo hay 2 lugares disponibles"}]
    answer = api_error_for(domain.Invalid("Solo hay 2 lugares disponibles", details=details))
    assert answer.to_body()["details"] == details


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_domain_error_class_has_a_status():
    for cls in _subclasses(domain.DomainError):
        exc = cls("x", hint="h") if cls is domain.ConcurrentUpdate else cls("x")
        assert 400 <= api_error_for(exc).status_code < 500, cls


def test_other_exceptions_are_not_domain_refusals():
    assert api_error_for(RuntimeError("boom")) is None
