"""/api/auth routes (docs/api.md#auth): thin views over accounts.services."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import serializers as s
from accounts import services
from accounts.authentication import USER_MISSING_ATTR
from guelaguetza.api.errors import VALIDATION_ERROR, ApiError, validation_response
from guelaguetza.api.permissions import USER_NOT_FOUND, Authenticated
from guelaguetza.api.views import ApiGenericViewSet

REFRESH_COOKIE = "gc_refresh_token"


def _validated(serializer_class, data):
    """(validated data, None) or (None, the 422 response of docs/api.md#auth)."""
    serializer = serializer_class(data=data)
    if serializer.is_valid():
        return serializer.validated_data, None
    return None, validation_response(serializer.errors, status_code=422, message=VALIDATION_ERROR)


def _with_tokens(
    body: dict, pair: services.TokenPair, *, status_code: int = 200, token: bool = True
) -> Response:
    """The token fields of docs/api.md#post-auth-login (``token`` repeats
    ``accessToken`` for the UI, except on refresh) plus the ``gc_refresh_token`` cookie."""
    body = {
        **body,
        "accessToken": pair.access_token,
        "refreshToken": pair.refresh_token,
        "expiresIn": pair.expires_in,
    }
    if token:
        body["token"] = pair.access_token
    response = Response(body, status=status_code)
    response.set_cookie(
        REFRESH_COOKIE,
        pair.refresh_token,
        max_age=settings.REFRESH_TOKEN_LIFETIME,
        path="/api/auth",
        httponly=True,
        secure=not settings.DEBUG,
        samesite="Lax" if settings.DEBUG else "Strict",
    )
    return response


class MeAuthenticated(Authenticated):
    """/api/auth/me of a valid token whose user is gone: 404 "Usuario no encontrado"
    (docs/api.md#get-auth-me), where the other required-auth routes answer 401."""

    def has_permission(self, request, view) -> bool:
        if getattr(request, USER_MISSING_ATTR, False):
            raise ApiError(404, USER_NOT_FOUND)
        return super().has_permission(request, view)


class AuthViewSet(ApiGenericViewSet):
    def get_permissions(self):
        if self.action == "me":
            return [MeAuthenticated()]
        return []

    @extend_schema(request=s.RegisterInput)
    @action(detail=False, methods=["post"])
    def register(self, request):
        data, error = _validated(s.RegisterInput, request.data)
        if error:
            return error
        user, pair = services.user_register(**data)
        body = {"success": True, "user": s.auth_user(user, created_at=True)}
        return _with_tokens(body, pair, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=s.LoginInput)
    @action(detail=False, methods=["post"])
    def login(self, request):
        # faceAuth (the UI's Face-ID "bypass") is deliberately ignored: ordinary login.
        data, error = _validated(s.LoginInput, request.data)
        if error:
            return error
        user, pair = services.user_login(email=data["email"], password=data["password"])
        return _with_tokens({"success": True, "user": s.auth_user(user)}, pair)

    @extend_schema(
        request=inline_serializer(
            "RefreshInput", {"refreshToken": serializers.CharField(required=False)}
        )
    )
    @action(detail=False, methods=["post"])
    def refresh(self, request):
        body = request.data if isinstance(request.data, dict) else {}
        token = body.get("refreshToken") or request.COOKIES.get(REFRESH_COOKIE)
        pair = services.token_refresh(token=token)
        return _with_tokens({"success": True}, pair, token=False)

    @extend_schema(methods=["PUT"], request=s.ProfileInput)
    @extend_schema(methods=["GET"], request=None)
    @action(detail=False, methods=["get", "put"])
    def me(self, request):
        if request.method == "GET":
            return Response(s.me_payload(request.user))
        data, error = _validated(s.ProfileInput, request.data)
        if error:
            return error
        user = services.profile_update(user=request.user, data=data)
        return Response(s.auth_user(user))
