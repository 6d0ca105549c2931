"""Permissions shared by every app (API.md 1.2)."""

from rest_framework import exceptions, permissions

BANNED = "Tu cuenta ha sido suspendida"


class Authenticated(permissions.BasePermission):
    """Required auth: no or bad token -> 401 "No autorizado"; banned user -> 403."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            raise exceptions.NotAuthenticated()
        if getattr(user, "banned_at", None) is not None:
            raise exceptions.PermissionDenied(BANNED)
        return True
