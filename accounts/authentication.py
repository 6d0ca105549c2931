"""Bearer JWT authentication that never rejects a request by itself [F1].

The contract: docs/api.md#authentication.

A missing, expired, malformed, forged or demo (``demo_...``) token leaves the caller
anonymous, so public and optional-auth routes keep working for the UI's demo mode.
Routes that require a user use :class:`guelaguetza.api.permissions.Authenticated`, which
turns "anonymous" into 401 and "token for a deleted user" into 401 "Usuario no
encontrado". The user comes from the cache (accounts.selectors.user_for_token), so a
signed-in request whose data is cached too runs no SQL.
"""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication, get_authorization_header

from accounts.selectors import user_for_token
from accounts.tokens import access_token_decode

# Set on the Django request when a valid token names a user that no longer exists.
USER_MISSING_ATTR = "gc_auth_user_missing"


class OptionalJWTAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != self.keyword:
            return None
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            return None
        if token.startswith("demo_"):
            return None
        claims = access_token_decode(token)
        if claims is None:
            return None
        user = user_for_token(user_id=claims["sub"])
        if user is None:
            setattr(request._request, USER_MISSING_ATTR, True)
            return None
        if not user.is_active:
            return None
        return user, claims

    def authenticate_header(self, request) -> str:
        # Without a header value DRF would turn every 401 into a 403.
        return 'Bearer realm="api"'
