"""Routes of docs/api.md#gamification (envelope ``{success: true, data}``); thin: parse,
call, return."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from gamification import selectors, services
from gamification.serializers import LEADERBOARD_QUERY, new_badge_payload
from guelaguetza.api.cached import entry_response, stats_body
from guelaguetza.api.permissions import Authenticated
from guelaguetza.api.responses import ok
from guelaguetza.api.views import ApiGenericViewSet


class _CallerActions:
    """The signed-in caller's badges and check-in, routed under both /me/... and the
    seed-path aliases: DRF collects @action methods from base classes too, so the two
    viewsets share one definition of each route."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["get"])
    def badges(self, request) -> Response:
        entry = selectors.badges_for_user(user_id=request.user.pk, as_entry=True)
        return entry_response(request, entry.body, entry.etag, personal=True)

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["post"], url_path="check-in")
    def check_in(self, request) -> Response:
        # No body and no content-type (docs/api.md#routing): request.data is never read.
        result = services.checkin_perform(user=request.user)
        return ok({**result, "newBadges": [new_badge_payload(b) for b in result["newBadges"]]})


class MeViewSet(_CallerActions, ApiGenericViewSet):
    """/api/gamification/me/{stats,badges,check-in}"""

    permission_classes = [Authenticated]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["get"])
    def stats(self, request) -> Response:
        entries = selectors.stats_get(user_id=request.user.pk, create=True)
        return entry_response(request, *stats_body(entries), personal=True)


class GamificationViewSet(_CallerActions, ApiGenericViewSet):
    """/api/gamification/leaderboard, and the seed-path aliases /badges and /check-in."""

    def get_permissions(self):
        if self.action == "leaderboard":
            return [AllowAny()]
        return [Authenticated()]

    @extend_schema(parameters=LEADERBOARD_QUERY.openapi(), responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["get"])
    def leaderboard(self, request) -> Response:
        query = LEADERBOARD_QUERY.parse(request.query_params)
        entry = selectors.leaderboard_page(**query, as_entry=True)
        return entry_response(request, entry.body, entry.etag)


class UserViewSet(ApiGenericViewSet):
    """/api/gamification/users/<userId>/{stats,badges}: public, any string id."""

    permission_classes = [AllowAny]
    lookup_field = "user_id"
    lookup_value_regex = "[^/]+"

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def stats(self, request, user_id: str) -> Response:
        return entry_response(request, *stats_body(selectors.stats_get(user_id=user_id)))

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def badges(self, request, user_id: str) -> Response:
        return ok(selectors.badges_unlocked(user_id=user_id))
