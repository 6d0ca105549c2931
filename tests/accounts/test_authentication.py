"""OptionalJWTAuthentication + Authenticated (API.md 1.2, F1): bad tokens are anonymous
on public routes and a 401/403 in the 1.4 shape on required ones."""

import datetime as dt

import jwt
import pytest
from django.conf import settings
from django.urls import path
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.tokens import access_token_issue, refresh_token_issue
from guelaguetza.api.permissions import Authenticated
from tests.factories import UserFactory


class PublicProbe(APIView):
    def get(self, request):
        return Response({"user": getattr(request.user, "id", None)})


class PrivateProbe(PublicProbe):
    permission_classes = [Authenticated]


urlpatterns = [
    path("api/public", PublicProbe.as_view()),
    path("api/private", PrivateProbe.as_view()),
]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def _get(client, url, token=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get(url, **headers)


def _expired_token(user):
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    claims = {"sub": user.id, "type": "access", "iat": past, "exp": past}
    return jwt.encode(claims, settings.JWT_ACCESS_SECRET, "HS256")


def test_valid_access_token_identifies_the_user_from_sub(api_client, user):
    response = _get(api_client, "/api/public", access_token_issue(user).token)
    assert response.json() == {"user": user.id}


BAD_KINDS = ["missing", "demo", "demo_token", "garbage", "expired", "forged", "refresh"]


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_tokens_are_anonymous_on_public_routes(api_client, user, kind):
    token = {
        "missing": None,
        "demo": "demo_user_1712345678",
        "demo_token": "demo_token_1712345678",
        "garbage": "a.b.c",
        "expired": _expired_token(user),
        "forged": jwt.encode(
            {"sub": user.id, "type": "access", "exp": timezone.now() + dt.timedelta(hours=1)},
            "not-the-secret-but-long-enough-0123456789",
            "HS256",
        ),
        "refresh": refresh_token_issue(user, family_id="f").token,
    }[kind]
    response = _get(api_client, "/api/public", token)
    assert response.status_code == 200
    assert response.json() == {"user": None}


def test_required_route_without_token_is_401_in_api_shape(api_client):
    response = _get(api_client, "/api/private")
    assert response.status_code == 401
    assert response.json() == {
        "success": False,
        "error": "No autorizado",
        "message": "No autorizado",
    }


def test_required_route_with_demo_token_is_401(api_client):
    assert _get(api_client, "/api/private", "demo_token_1").status_code == 401


def test_token_of_deleted_user_is_401_user_not_found(api_client):
    user = UserFactory()
    token = access_token_issue(user).token
    user.delete()
    response = _get(api_client, "/api/private", token)
    assert response.status_code == 401
    assert response.json()["message"] == "Usuario no encontrado"
    assert _get(api_client, "/api/public", token).json() == {"user": None}


def test_banned_user_gets_403_on_required_route(api_client):
    user = UserFactory(banned_at=timezone.now())
    response = _get(api_client, "/api/private", access_token_issue(user).token)
    assert response.status_code == 403
    assert response.json()["error"] == "Tu cuenta ha sido suspendida"


def test_authentication_costs_one_query(api_client, user, django_assert_num_queries):
    token = access_token_issue(user).token
    with django_assert_num_queries(1):
        assert _get(api_client, "/api/private", token).status_code == 200
