"""Declares the Bearer scheme of OptionalJWTAuthentication in the OpenAPI schema."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class OptionalJWTScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.OptionalJWTAuthentication"
    name = "BearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
