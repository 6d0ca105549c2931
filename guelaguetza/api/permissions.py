"""Permissions shared by every app (docs/api.md#authentication)."""

from rest_framework import exceptions, permissions

from guelaguetza.api.errors import ApiError

BANNED = "Tu cuenta ha sido suspendida"
USER_NOT_FOUND = "Usuario no encontrado"


class Authenticated(permissions.BasePermission):
    """Required auth: no or bad token -> 401 "No autorizado"; a valid token whose user
    row is gone -> 401 "Usuario no encontrado"; banned user -> 403."""

    def has_permission(self, request, view) -> bool:
        if getattr(view, "action", "") is None:
            # A method the route does not serve (a viewset maps no action to it): let
            # DRF answer 405 rather than 401, as for a public route.
            return True
        user = request.user
        if not user or not user.is_authenticated:
            # Imported here: accounts.authentication imports the User model.
            from accounts.authentication import USER_MISSING_ATTR

            if getattr(request, USER_MISSING_ATTR, False):
                raise ApiError(401, USER_NOT_FOUND, headers={"WWW-Authenticate": "Bearer"})
            raise exceptions.NotAuthenticated()
        if getattr(user, "banned_at", None) is not None:
            raise exceptions.PermissionDenied(BANNED)
        return True
