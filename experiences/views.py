"""Thin views for /api/bookings/... (docs/api.md#bookings): parse (queries with their
guelaguetza.api.query declarations, bodies with serializers), call one service or
selector, return the bare body."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from experiences import selectors, services
from experiences.serializers import (
    BOOKING_LIST_QUERY,
    EXPERIENCE_LIST_QUERY,
    SLOTS_QUERY,
    BookingCreateSerializer,
    ExperienceCreateSerializer,
    ExperienceUpdateSerializer,
    ReviewCreateSerializer,
    SlotsCreateSerializer,
    booking_full,
    experience_with_host,
    review_with_user,
)
from guelaguetza.api.cached import entry_response
from guelaguetza.api.errors import NOT_FOUND
from guelaguetza.api.permissions import Authenticated
from guelaguetza.api.views import ApiGenericViewSet, ApiViewSet

# Ids are opaque strings (docs/api.md#ids): any segment reaches the view, which answers 404.
ID_REGEX = r"[^/]+"


def _valid(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ExperienceViewSet(ApiGenericViewSet):
    lookup_value_regex = ID_REGEX
    public_actions = {"list", "retrieve"}

    def get_permissions(self):
        if self.action in self.public_actions or (
            self.action == "slots" and self.request.method == "GET"
        ):
            return [AllowAny()]
        return [Authenticated()]

    @extend_schema(
        operation_id="bookings_experiences_list",
        parameters=EXPERIENCE_LIST_QUERY.openapi(),
        responses=OpenApiTypes.OBJECT,
    )
    def list(self, request):
        query = EXPERIENCE_LIST_QUERY.parse(request.query_params)
        entry = selectors.experience_list(**query, as_entry=True)
        return entry_response(request, entry.body, entry.etag)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def retrieve(self, request, pk: str):
        entry = selectors.experience_detail(experience_id=pk, as_entry=True)
        return entry_response(request, entry.body, entry.etag)

    @extend_schema(request=ExperienceCreateSerializer, responses={201: OpenApiTypes.OBJECT})
    def create(self, request):
        data = _valid(ExperienceCreateSerializer, request.data)
        experience = services.experience_create(host=request.user, data=data)
        return Response(experience_with_host(experience), status=status.HTTP_201_CREATED)

    @extend_schema(request=ExperienceUpdateSerializer, responses=OpenApiTypes.OBJECT)
    def update(self, request, pk: str):
        data = _valid(ExperienceUpdateSerializer, request.data)
        experience = services.experience_update(user=request.user, experience_id=pk, data=data)
        experience.host = request.user
        return Response(experience_with_host(experience))

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def destroy(self, request, pk: str):
        services.experience_delete(user=request.user, experience_id=pk)
        return Response({"message": "Experiencia eliminada"})

    @extend_schema(
        methods=["GET"],
        parameters=SLOTS_QUERY.openapi(),
        request=None,
        responses=OpenApiTypes.OBJECT,
    )
    @extend_schema(
        methods=["POST"], request=SlotsCreateSerializer, responses={201: OpenApiTypes.OBJECT}
    )
    @action(detail=True, methods=["get", "post"])
    def slots(self, request, pk: str):
        if request.method == "GET":
            # The dates go into the key only after validation (docs/cache.md#key-tree).
            query = SLOTS_QUERY.parse(request.query_params)
            entry = selectors.experience_slots(experience_id=pk, **query, as_entry=True)
            return entry_response(request, entry.body, entry.etag)
        data = _valid(SlotsCreateSerializer, request.data)
        created = services.slots_create(user=request.user, experience_id=pk, slots=data["slots"])
        return Response({"created": created}, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReviewCreateSerializer, responses={201: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def reviews(self, request, pk: str):
        data = _valid(ReviewCreateSerializer, request.data)
        review = services.review_create(
            user=request.user,
            experience_id=pk,
            rating=data["rating"],
            comment=data.get("comment"),
        )
        return Response(review_with_user(review), status=status.HTTP_201_CREATED)


class SlotViewSet(ApiGenericViewSet):
    lookup_value_regex = ID_REGEX
    permission_classes = [Authenticated]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def destroy(self, request, pk: str):
        services.slot_delete(user=request.user, slot_id=pk)
        return Response({"message": "Horario eliminado"})


class BookingViewSet(ApiGenericViewSet):
    lookup_value_regex = ID_REGEX
    permission_classes = [Authenticated]

    @extend_schema(
        operation_id="bookings_bookings_list",
        parameters=BOOKING_LIST_QUERY.openapi(),
        responses=OpenApiTypes.OBJECT,
    )
    def list(self, request):
        query = BOOKING_LIST_QUERY.parse(request.query_params)
        return Response(selectors.booking_list(user=request.user, **query))

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def retrieve(self, request, pk: str):
        return Response(selectors.booking_detail(user=request.user, booking_id=pk))

    @extend_schema(
        request=BookingCreateSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        responses={201: OpenApiTypes.OBJECT},
    )
    def create(self, request):
        data = _valid(BookingCreateSerializer, request.data)
        key = request.headers.get("Idempotency-Key")
        if key is not None:
            code, body, replayed = services.booking_create_idempotent(
                user=request.user, key=key, data=dict(data)
            )
            headers = {"Idempotent-Replayed": "true"} if replayed else None
            return Response(body, status=code, headers=headers)
        booking = services.booking_create(
            user=request.user,
            experience_id=data["experienceId"],
            time_slot_id=data["timeSlotId"],
            guest_count=data["guestCount"],
            special_requests=data.get("specialRequests"),
        )
        # clientSecret must be present and null: payments are out of scope [F14].
        return Response(
            {"booking": booking_full(booking), "clientSecret": None},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk: str):
        return Response(booking_full(services.booking_confirm(user=request.user, booking_id=pk)))

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk: str):
        return Response(booking_full(services.booking_cancel(user=request.user, booking_id=pk)))

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk: str):
        return Response(booking_full(services.booking_complete(user=request.user, booking_id=pk)))

    @extend_schema(request=None, responses={404: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"], url_path="retry-payment")
    def retry_payment(self, request, pk: str):
        # Payments are out of scope: the UI shows its own message on this 404
        # (docs/api.md#post-bookings-retry-payment).
        raise NotFound(NOT_FOUND)


class HostViewSet(ApiViewSet):
    permission_classes = [Authenticated]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["get"])
    def experiences(self, request):
        return Response(selectors.host_experience_list(user=request.user))

    @extend_schema(parameters=BOOKING_LIST_QUERY.openapi(), responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["get"])
    def bookings(self, request):
        query = BOOKING_LIST_QUERY.parse(request.query_params)
        return Response(selectors.host_booking_list(user=request.user, **query))
