"""POST /api/auth/register, /login, /refresh and GET/PUT /api/auth/me (docs/api.md#auth)."""

import datetime as dt

import jwt
import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from accounts.models import RefreshToken, User
from accounts.selectors import users_with_email
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _register(client, **overrides):
    body = {"email": "Nuevo@Guelaguetza.mx", "password": "secreto1", "nombre": "Ana"}
    body.update(overrides)
    return client.post("/api/auth/register", body, format="json")


def _bearer(client, token):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_register_login_me_refresh_round_trip(api_client):
    reg = _register(api_client, apellido="López", region="Valles Centrales", extra="dropped")
    assert reg.status_code == 201
    body = reg.json()
    assert body["success"] is True
    assert body["token"] == body["accessToken"]
    assert body["expiresIn"] == 900
    assert body["user"]["email"] == "nuevo@guelaguetza.mx"
    assert body["user"]["apellido"] == "López"
    assert body["user"]["createdAt"].endswith("Z")
    assert set(body["user"]) == {
        "id", "email", "nombre", "apellido", "avatar", "region", "role", "createdAt"
    }  # fmt: skip
    cookie = reg.cookies["gc_refresh_token"]
    assert cookie["httponly"] and cookie["path"] == "/api/auth"
    assert cookie["samesite"] == "Strict" and cookie["secure"]

    login = api_client.post(
        "/api/auth/login",
        {"email": "NUEVO@guelaguetza.mx", "password": "secreto1"},
        format="json",
    )
    assert login.status_code == 200
    data = login.json()
    assert data["user"]["id"] == body["user"]["id"]
    assert "createdAt" not in data["user"]
    claims = jwt.decode(data["token"], settings.JWT_ACCESS_SECRET, algorithms=["HS256"])
    assert claims["sub"] == body["user"]["id"] and claims["type"] == "access"
    assert claims["role"] == "USER" and claims["jti"]

    me = _bearer(api_client, data["token"]).get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["email"] == "nuevo@guelaguetza.mx"
    assert me.json()["_count"] == {"stories": 0, "likes": 0}

    refreshed = api_client.post(
        "/api/auth/refresh", {"refreshToken": data["refreshToken"]}, format="json"
    )
    assert refreshed.status_code == 200
    r = refreshed.json()
    assert set(r) == {"success", "accessToken", "refreshToken", "expiresIn"}
    assert r["refreshToken"] != data["refreshToken"]
    assert refreshed.cookies["gc_refresh_token"].value == r["refreshToken"]
    assert _bearer(api_client, r["accessToken"]).get("/api/auth/me").status_code == 200


def test_refresh_reads_the_cookie_when_the_body_has_no_token(api_client):
    reg = _register(api_client)
    api_client.cookies["gc_refresh_token"] = reg.json()["refreshToken"]
    response = api_client.post("/api/auth/refresh")
    assert response.status_code == 200


def test_replayed_refresh_token_revokes_its_whole_family(api_client):
    first = _register(api_client).json()["refreshToken"]
    second = api_client.post("/api/auth/refresh", {"refreshToken": first}, format="json")
    second_token = second.json()["refreshToken"]

    replay = api_client.post("/api/auth/refresh", {"refreshToken": first}, format="json")
    assert replay.status_code == 401
    assert replay.json()["message"].startswith("Actividad sospechosa detectada")

    # The legitimate descendant is dead too: the family is revoked.
    after = api_client.post("/api/auth/refresh", {"refreshToken": second_token}, format="json")
    assert after.status_code == 401
    assert after.json()["error"].startswith("Sesión invalidada por seguridad")
    assert not RefreshToken.objects.filter(revoked_at=None).exists()


def test_refresh_errors_have_the_original_messages(api_client):
    user = UserFactory()
    now = dt.datetime.now(dt.UTC)
    base = {"sub": user.id, "jti": "x", "type": "refresh", "familyId": "f"}
    expired = jwt.encode(
        {**base, "exp": now - dt.timedelta(seconds=5)}, settings.JWT_REFRESH_SECRET, "HS256"
    )
    forged = jwt.encode(
        {**base, "exp": now + dt.timedelta(days=1)}, "some-other-secret-0123456789abcdef", "HS256"
    )
    old = jwt.encode(
        {"sub": user.id, "jti": "y", "type": "refresh", "exp": now + dt.timedelta(days=1)},
        settings.JWT_REFRESH_SECRET,
        "HS256",
    )
    cases = [
        (None, 400, "Refresh token es requerido"),
        (expired, 401, "Refresh token expirado"),
        (forged, 401, "Refresh token inválido: firma incorrecta"),
        ("not-a-jwt", 401, "Refresh token inválido"),
        (old, 401, "Token inválido: formato antiguo. Por favor, inicia sesión nuevamente."),
    ]
    for token, status, message in cases:
        body = {} if token is None else {"refreshToken": token}
        response = api_client.post("/api/auth/refresh", body, format="json")
        assert response.status_code == status, token
        assert response.json() == {"success": False, "error": message, "message": message}


def test_register_validation_gives_422_with_details(api_client):
    response = _register(api_client, email="no-es-email", password="123", nombre="A")
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == body["message"] == "Error de validación"
    assert body["success"] is False
    assert {(d["field"], d["message"]) for d in body["details"]} == {
        ("email", "Email inválido"),
        ("password", "La contraseña debe tener al menos 6 caracteres"),
        ("nombre", "El nombre debe tener al menos 2 caracteres"),
    }


def test_register_with_wrong_types_is_422_not_500(api_client):
    response = _register(api_client, email=["x"], password={"a": 1}, nombre=12)
    assert response.status_code == 422


def test_register_twice_gives_400_email_taken(api_client):
    _register(api_client)
    response = _register(api_client, email="nuevo@GUELAGUETZA.mx")
    assert response.status_code == 400
    assert response.json()["message"] == "El email ya está registrado"


def test_email_matches_ignoring_case_whatever_case_was_stored(api_client):
    # Stored as typed (e.g. edited in the admin, or imported): login and the
    # duplicate check still find it.
    UserFactory(email="Ana.Lopez@Example.MX")
    login = api_client.post(
        "/api/auth/login",
        {"email": "ana.lopez@example.mx", "password": "password123"},
        format="json",
    )
    assert login.status_code == 200, login.content
    taken = _register(api_client, email="ANA.LOPEZ@example.mx")
    assert (taken.status_code, taken.json()["message"]) == (400, "El email ya está registrado")


def test_the_email_lookup_is_served_by_the_case_insensitive_unique_index():
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the test table is tiny
        plan = users_with_email(" Ana@Example.MX").explain()
    assert "accounts_user_email_ci_unique" in plan, plan


def test_login_wrong_password_and_face_auth_bypass_are_401(api_client):
    user = UserFactory(email="ana@example.mx")
    for password in ("mala-clave", "face_auth_bypass"):
        response = api_client.post(
            "/api/auth/login",
            {"email": user.email, "password": password, "faceAuth": True},
            format="json",
        )
        assert response.status_code == 401
        assert response.json()["message"] == "Credenciales inválidas"
    unknown = api_client.post(
        "/api/auth/login", {"email": "nadie@example.mx", "password": "x"}, format="json"
    )
    assert unknown.status_code == 401


def test_login_missing_password_is_422(api_client):
    response = api_client.post("/api/auth/login", {"email": "a@b.mx"}, format="json")
    assert response.status_code == 422
    assert response.json()["details"] == [
        {"field": "password", "message": "La contraseña es requerida"}
    ]


def test_login_of_banned_user_is_403_with_reason(api_client):
    UserFactory(email="b@example.mx", banned_at=dt.datetime.now(dt.UTC), banned_reason="spam")
    response = api_client.post(
        "/api/auth/login", {"email": "b@example.mx", "password": "password123"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["message"] == "Tu cuenta ha sido suspendida: spam"


def test_put_me_updates_profile_and_ignores_other_keys(api_client):
    token = _register(api_client).json()["token"]
    response = _bearer(api_client, token).put(
        "/api/auth/me",
        {"nombre": "Ana María", "avatar": "https://img.mx/a.png", "email": "x@y.mx", "id": "z"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["nombre"] == "Ana María"
    assert response.json()["email"] == "nuevo@guelaguetza.mx"
    assert set(response.json()) == {"id", "email", "nombre", "apellido", "avatar", "region", "role"}
    assert User.objects.get(email="nuevo@guelaguetza.mx").avatar == "https://img.mx/a.png"


def test_put_me_validation_is_422(api_client):
    token = _register(api_client).json()["token"]
    response = _bearer(api_client, token).put(
        "/api/auth/me", {"nombre": "A", "avatar": "no url"}, format="json"
    )
    assert response.status_code == 422
    assert {d["field"] for d in response.json()["details"]} == {"nombre", "avatar"}


@override_settings(DEBUG=True)
def test_cookie_is_lax_and_not_secure_in_development(api_client):
    cookie = _register(api_client).cookies["gc_refresh_token"]
    assert cookie["samesite"] == "Lax" and not cookie["secure"]


def test_me_without_token_is_401_and_with_demo_token_too(api_client):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer demo_token_123"}):
        response = api_client.get("/api/auth/me", **headers)
        assert response.status_code == 401
        assert response.json()["message"] == "No autorizado"
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_refresh_of_a_banned_user_is_401_suspended(api_client):
    body = _register(api_client).json()
    User.objects.filter(pk=body["user"]["id"]).update(banned_at=dt.datetime.now(dt.UTC))
    response = api_client.post(
        "/api/auth/refresh", {"refreshToken": body["refreshToken"]}, format="json"
    )
    assert response.status_code == 401
    assert response.json()["message"] == "Tu cuenta ha sido suspendida"


def test_put_me_accepts_empty_and_null_optional_fields(api_client):
    token = _register(api_client, apellido="López").json()["token"]
    response = _bearer(api_client, token).put(
        "/api/auth/me", {"apellido": "", "region": None, "avatar": ""}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["apellido"] == "" and body["region"] is None and body["avatar"] is None
