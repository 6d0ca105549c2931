"""Placeholder until the JWT authentication lands (issue 2): everyone is anonymous."""

from rest_framework.authentication import BaseAuthentication


class OptionalJWTAuthentication(BaseAuthentication):
    def authenticate(self, request):
        return None
