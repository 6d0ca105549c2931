"""OptionalJWTAuthentication + Authenticated (docs/api.md#authentication, [F1]): bad
tokens are anonymous on public routes and a 401/403 in the shape of docs/api.md#errors on
required ones."""

import datetime as dt

import jwt
import pytest
from django.conf import settings
from django.urls import path
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.tokens import access_token_issue, refresh_token_issue
from guelaguetza.api.permissions import Authenticated
from guelaguetza.cache import cache, keys
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


def test_authentication_loads_the_user_once_then_from_the_cache(
    api_client, user, django_assert_num_queries
):
    token = access_token_issue(user).token
    with django_assert_num_queries(1):
        assert _get(api_client, "/api/private", token).json() == {"user": user.id}
    assert cache.get(keys.user_auth(user_id=user.id))["email"] == user.email
    with django_assert_num_queries(0):
        assert _get(api_client, "/api/private", token).json() == {"user": user.id}


def test_cached_token_user_is_a_real_user_that_saves_only_loaded_fields(db):
    from accounts.selectors import AUTH_FIELDS, user_for_token

    user = UserFactory(region="Sierra Norte", role="MODERATOR", avatar="https://x.mx/a.png")
    user_for_token(user_id=user.id)  # fill the cache
    cached = user_for_token(user_id=user.id)
    assert cached.is_authenticated and cached._state.adding is False
    for name in AUTH_FIELDS:
        assert getattr(cached, name) == getattr(user, name), name
    cached.nombre = "Renombrada"
    cached.save()  # password, last_login stay deferred: never blanked
    user.refresh_from_db()
    assert user.nombre == "Renombrada"
    assert user.check_password("password123")


@pytest.mark.django_db(transaction=True)
def test_ban_reaches_a_cached_token_user_at_once(api_client):
    user = UserFactory()
    token = access_token_issue(user).token
    assert _get(api_client, "/api/private", token).status_code == 200  # cached now

    user.banned_at = timezone.now()
    user.save(update_fields=["banned_at"])  # receiver -> user_auth_changed, on commit
    response = _get(api_client, "/api/private", token)
    assert response.status_code == 403
    assert response.json()["error"] == "Tu cuenta ha sido suspendida"

    User.objects.filter(pk=user.pk).update(banned_at=None)  # no signal: stays cached
    assert _get(api_client, "/api/private", token).status_code == 403
    user.banned_at = None
    user.save()  # a full save clears user:{id}:* through profile_changed
    assert _get(api_client, "/api/private", token).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_deleted_user_token_gets_401_user_not_found_even_after_caching(api_client):
    user = UserFactory()
    token = access_token_issue(user).token
    assert _get(api_client, "/api/private", token).status_code == 200
    user.delete()
    response = _get(api_client, "/api/private", token)
    assert response.status_code == 401
    assert response.json()["error"] == "Usuario no encontrado"


def test_user_auth_receiver_ignores_fields_no_cache_holds(user):
    from accounts.selectors import user_for_token

    user_for_token(user_id=user.id)
    user.set_password("otra-clave")
    user.save(update_fields=["password"])
    assert cache.get(keys.user_auth(user_id=user.id)) is not None
