"""/api/events (docs/api.md#events): thin views over events.selectors and events.services."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from events import selectors, services
from events.serializers import EVENT_LIST_QUERY, ReminderBodySerializer
from guelaguetza.api.cached import entry_response
from guelaguetza.api.permissions import Authenticated
from guelaguetza.api.responses import ok
from guelaguetza.api.views import ApiGenericViewSet
from guelaguetza.errors import NotFound


def _caller_id(request: Request) -> str | None:
    """Optional auth: the identified user's id, else None (never a 401)."""
    user = request.user
    return user.pk if user is not None and user.is_authenticated else None


def _done(message: str) -> Response:
    return Response({"success": True, "message": message})


class EventViewSet(ApiGenericViewSet):
    # Event ids are any URL-safe string (docs/api.md#ids); dots included.
    lookup_value_regex = "[^/]+"
    lookup_url_kwarg = "event_id"

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [permissions.AllowAny()]
        return [Authenticated()]

    @extend_schema(
        operation_id="events_list",
        parameters=EVENT_LIST_QUERY.openapi(),
        responses=OpenApiTypes.OBJECT,
    )
    def list(self, request: Request) -> Response:
        query = EVENT_LIST_QUERY.parse(request.query_params)
        caller = _caller_id(request)
        body, etag = selectors.events_list(**query, user_id=caller, as_entry=True)
        # Vary: Authorization for anonymous callers too: a signed-in caller's answer
        # differs (hasRSVP/hasReminder), so a shared cache must key on the header.
        return entry_response(request, body, etag, personal=True)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def retrieve(self, request: Request, event_id: str) -> Response:
        caller = _caller_id(request)
        found = selectors.event_get(event_id=event_id, user_id=caller, as_entry=True)
        if found is None:
            raise NotFound(services.EVENT_NOT_FOUND)
        return entry_response(request, *found, personal=True)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["get"], url_path="my-rsvps")
    def my_rsvps(self, request: Request) -> Response:
        return ok(selectors.my_rsvps(user_id=request.user.pk))

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post", "delete"])
    def rsvp(self, request: Request, event_id: str) -> Response:
        if request.method == "DELETE":
            services.event_rsvp_delete(user=request.user, event_id=event_id)
            return _done("Asistencia cancelada")
        services.event_rsvp_create(user=request.user, event_id=event_id)
        return _done("Asistencia confirmada")

    @extend_schema(request=ReminderBodySerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post", "delete"])
    def reminder(self, request: Request, event_id: str) -> Response:
        if request.method == "DELETE":
            services.event_reminder_delete(user=request.user, event_id=event_id)
            return _done("Recordatorio eliminado")
        body = ReminderBodySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.event_reminder_set(
            user=request.user, event_id=event_id, remind_at=body.validated_data["remindAt"]
        )
        return _done("Recordatorio creado")
