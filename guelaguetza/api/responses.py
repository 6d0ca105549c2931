"""Success envelopes (docs/api.md#envelopes) shared by the apps' views."""

from rest_framework.response import Response


def ok(data) -> Response:
    """``{"success": true, "data": ...}``: gamification and events reads."""
    return Response({"success": True, "data": data})
