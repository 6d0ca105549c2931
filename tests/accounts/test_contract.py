"""/api/auth against docs/api.md#auth, route by route: exact key sets, statuses and messages, and
bad input that must come back as a 4xx in the shape of docs/api.md#errors, never a 500."""

import json

import jwt
import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

AUTH_USER = {"id", "email", "nombre", "apellido", "avatar", "region", "role"}
TOKENS = {"success", "user", "accessToken", "refreshToken", "expiresIn", "token"}


def login(client, user, password="password123"):
    return client.post(
        "/api/auth/login", {"email": user.email, "password": password}, format="json"
    )


def test_register_contract(api_client):
    r = api_client.post(
        "/api/auth/register",
        {"email": "Ana@X.mx", "password": "secreto", "nombre": "Ana", "id": "x", "role": "ADMIN"},
        format="json",
    )

    assert r.status_code == 201
    body = r.json()
    assert set(body) == TOKENS
    assert set(body["user"]) == AUTH_USER | {"createdAt"}
    assert body["user"]["role"] == "USER" and body["user"]["id"] != "x"  # unknown keys dropped
    assert body["user"]["apellido"] is None and body["user"]["avatar"] is None
    assert body["expiresIn"] == 900 and body["token"] == body["accessToken"]
    cookie = r.cookies["gc_refresh_token"]
    assert int(cookie["max-age"]) == 7 * 24 * 3600 and cookie["path"] == "/api/auth"


def test_register_validation_messages_are_the_originals(api_client):
    r = api_client.post(
        "/api/auth/register", {"email": "no", "password": "12345", "nombre": "A"}, format="json"
    )

    body = assert_error(r, 422, "Error de validación")
    assert body["details"] == [
        {"field": "email", "message": "Email inválido"},
        {"field": "password", "message": "La contraseña debe tener al menos 6 caracteres"},
        {"field": "nombre", "message": "El nombre debe tener al menos 2 caracteres"},
    ]


def test_login_contract(api_client):
    user = UserFactory()

    r = login(api_client, user)

    assert r.status_code == 200
    assert set(r.json()) == TOKENS
    assert set(r.json()["user"]) == AUTH_USER  # login has no createdAt


def test_login_errors(api_client):
    user = UserFactory()
    assert_error(login(api_client, user, "wrong!"), 401, "Credenciales inválidas")
    body = assert_error(
        api_client.post("/api/auth/login", {"email": user.email, "password": ""}, format="json"),
        422,
        "Error de validación",
    )
    assert body["details"] == [{"field": "password", "message": "La contraseña es requerida"}]


def test_refresh_contract(api_client):
    tokens = login(api_client, UserFactory()).json()

    r = api_client.post(
        "/api/auth/refresh", {"refreshToken": tokens["refreshToken"]}, format="json"
    )

    assert r.status_code == 200
    assert set(r.json()) == {"success", "accessToken", "refreshToken", "expiresIn"}
    # A fresh client: this one now holds the rotated cookie.
    r = APIClient().post("/api/auth/refresh", {}, format="json")
    assert_error(r, 400, "Refresh token es requerido")


def test_get_me_contract(api_client):
    token = login(api_client, UserFactory()).json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    r = api_client.get("/api/auth/me")

    assert r.status_code == 200
    assert set(r.json()) == AUTH_USER | {"createdAt", "_count"}
    assert r.json()["_count"] == {"stories": 0, "likes": 0}


def test_put_me_contract(auth_client):
    r = auth_client.put(
        "/api/auth/me",
        {"nombre": "Rosa", "avatar": "https://example.com/a.png", "email": "x@y.mx", "id": "z"},
        format="json",
    )

    assert r.status_code == 200
    assert set(r.json()) == AUTH_USER  # bare, no createdAt, other keys ignored
    assert r.json()["nombre"] == "Rosa" and r.json()["email"] != "x@y.mx"


def test_put_me_short_nombre_has_the_registration_message(auth_client):
    r = auth_client.put("/api/auth/me", {"nombre": "R"}, format="json")

    body = assert_error(r, 422, "Error de validación")
    assert body["details"] == [
        {"field": "nombre", "message": "El nombre debe tener al menos 2 caracteres"}
    ]


@override_settings(ACCESS_TOKEN_LIFETIME=3600)
def test_access_token_lifetime_is_configurable(api_client):  # [F22]
    body = login(api_client, UserFactory()).json()

    claims = jwt.decode(body["token"], settings.JWT_ACCESS_SECRET, algorithms=["HS256"])
    assert body["expiresIn"] == 3600
    assert claims["exp"] - claims["iat"] == 3600


JSON = "application/json"
BAD_BODIES = [
    (b"{not json", "application/json"),
    (b"", "application/json"),
    (b"", None),
    (b"[1, 2]", "application/json"),
    (b'"text"', "application/json"),
    (b"null", "application/json"),
    (b"\xff\xfe", "application/json"),
    (b"<x/>", "text/xml"),
    (json.dumps({"email": ["a"], "password": {"a": 1}, "nombre": 12}).encode(), JSON),
    (json.dumps({"email": "a@b.mx" * 20_000, "password": "x" * 100_000}).encode(), JSON),
]  # fmt: skip


@pytest.mark.parametrize("method,path", [
    ("POST", "/api/auth/register"), ("POST", "/api/auth/login"),
    ("POST", "/api/auth/refresh"), ("PUT", "/api/auth/me"),
])  # fmt: skip
@pytest.mark.parametrize("raw,content_type", BAD_BODIES)
def test_bad_bodies_are_4xx_in_the_api_shape(auth_client, method, path, raw, content_type):
    kwargs = {"content_type": content_type} if content_type else {}

    r = auth_client.generic(method, path, raw, **kwargs)

    if r.status_code == 200:  # PUT /me with nothing to change is a valid no-op
        assert method == "PUT" and set(r.json()) == AUTH_USER
    else:
        assert_error(r, r.status_code)
        assert 400 <= r.status_code < 500
