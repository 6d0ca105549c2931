"""Every error under /api is JSON in the shape of docs/api.md#errors, never an HTML page."""

import pytest
from django.test import Client, override_settings
from django.urls import path
from rest_framework.views import APIView

from guelaguetza import urls as project_urls


class BoomApi(APIView):
    def get(self, request):
        raise RuntimeError("boom")


def boom_plain(request):
    raise RuntimeError("boom")


urlpatterns = [
    path("api/test-boom-drf", BoomApi.as_view()),
    path("api/test-boom-plain", boom_plain),
    *project_urls.urlpatterns,
]
handler404 = project_urls.handler404
handler500 = project_urls.handler500

pytestmark = pytest.mark.django_db


def _assert_api_error(response, status, message):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False
    assert body["error"] == body["message"] == message


def test_malformed_json_is_400_json(api_client):
    response = api_client.post("/api/auth/login", data="{not json", content_type="application/json")
    _assert_api_error(response, 400, "JSON inválido")


def test_json_that_is_not_an_object_is_422(api_client):
    response = api_client.post("/api/auth/login", data="[1, 2]", content_type="application/json")
    assert response.status_code == 422


def test_unknown_api_route_is_json_404(api_client):
    _assert_api_error(api_client.get("/api/no-such-thing"), 404, "Recurso no encontrado")
    _assert_api_error(api_client.post("/api/auth/nope"), 404, "Recurso no encontrado")


@override_settings(DEBUG=True)
def test_unknown_api_route_is_json_even_in_debug(api_client):
    _assert_api_error(api_client.get("/api/no-such-thing"), 404, "Recurso no encontrado")


def test_trailing_slash_is_not_redirected(api_client):
    response = api_client.post("/api/auth/login/", {}, format="json")
    _assert_api_error(response, 404, "Recurso no encontrado")


def test_unknown_root_route_is_json_404(api_client):
    _assert_api_error(api_client.get("/nothing-here"), 404, "Recurso no encontrado")


def test_wrong_method_is_json_405(api_client):
    _assert_api_error(api_client.get("/api/auth/login"), 405, "Método no permitido")
    _assert_api_error(api_client.delete("/api/auth/me"), 405, "Método no permitido")


def test_unsupported_media_type_is_json_415(api_client):
    response = api_client.post("/api/auth/login", data="a=b", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["success"] is False


@pytest.mark.urls(__name__)
def test_unhandled_error_in_drf_view_is_json_500():
    client = Client(raise_request_exception=False)
    _assert_api_error(client.get("/api/test-boom-drf"), 500, "Error interno del servidor")


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("debug", [False, True])
def test_unhandled_error_in_plain_view_under_api_is_json_500(settings, debug):
    settings.DEBUG = debug
    client = Client(raise_request_exception=False)
    _assert_api_error(client.get("/api/test-boom-plain"), 500, "Error interno del servidor")


def test_too_long_fields_are_422_not_a_database_error(api_client):
    response = api_client.post(
        "/api/auth/register",
        {"email": "a@b.mx", "password": "secreto1", "nombre": "N" * 101, "region": "R" * 101},
        format="json",
    )
    assert response.status_code == 422
    assert {d["field"] for d in response.json()["details"]} == {"nombre", "region"}


def test_disallowed_host_is_json_400(api_client, settings):
    settings.ALLOWED_HOSTS = ["api.example.mx"]
    response = api_client.get("/api/auth/me", HTTP_HOST="evil.example")
    _assert_api_error(response, 400, "Solicitud inválida")


def test_cors_preflight_allows_the_front_end_origin(api_client, settings):
    response = api_client.options(
        "/api/auth/login",
        HTTP_ORIGIN="https://guelaguetzaconnect.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://guelaguetzaconnect.com"
    assert response["Access-Control-Allow-Credentials"] == "true"
    allowed = response["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    other = api_client.get("/api/health", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in other


@pytest.mark.django_db
@pytest.mark.parametrize(("raw", "status"), [
    (b"[" * 100_000, 400),             # json.loads RecursionError -> "JSON inválido"
    (b'{"a":' * 50_000, 400),
    (b'{"email": "' + b"a" * 3_000_000 + b'"}', 413),  # over DATA_UPLOAD_MAX_MEMORY_SIZE
])  # fmt: skip
def test_deeply_nested_or_oversized_json_is_4xx_not_500(auth_client, raw, status):
    r = auth_client.generic("POST", "/api/auth/login", raw, content_type="application/json")
    assert r.status_code == status
    body = r.json()
    assert body["success"] is False and body["error"] == body["message"]


@pytest.mark.django_db
def test_too_many_query_fields_is_400_not_500(api_client):
    query = "&".join(f"x{i}=1" for i in range(1500))  # > DATA_UPLOAD_MAX_NUMBER_FIELDS
    r = api_client.get(f"/api/events?{query}")
    assert r.status_code == 400
    assert r.json()["error"] == "Solicitud inválida"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "get"])
@pytest.mark.parametrize("path", ["/api/no-such-thing", "/api/auth/nope", "/api"])
def test_unknown_api_route_is_json_404_for_every_method_with_csrf_enforced(method, path):
    # A browser-like client: Django's CSRF check on, no token, no cookie.
    client = Client(enforce_csrf_checks=True)
    body = {} if method == "get" else {"data": "{}", "content_type": "application/json"}
    response = getattr(client, method)(path, **body)
    _assert_api_error(response, 404, "Recurso no encontrado")


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_wrong_method_on_api_health_is_json_405_with_csrf_enforced(method):
    response = getattr(Client(enforce_csrf_checks=True), method)("/api/health")
    _assert_api_error(response, 405, "Método no permitido")
    assert set(response["Allow"].split(", ")) == {"GET", "HEAD"}
