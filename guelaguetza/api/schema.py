"""The OpenAPI schema's contract: responses, auth and error bodies of every operation.

drf-spectacular derives paths, parameters and request bodies from the views and their
serializers. What it cannot see (the bodies the views build as plain dicts, the error
statuses raised from services, which routes ignore a token) is stated here once, in
:data:`OPERATIONS`, and applied by :func:`postprocess` (a SPECTACULAR_SETTINGS
POSTPROCESSING_HOOK). Every operation of the schema must have an entry: the hook
raises on one that has none, so a new route cannot ship undocumented.

The schema is checked against the running app by schemathesis in ``make test``
(tests/test_openapi_schemathesis.py, settings in schemathesis.toml;
README.md#openapi-schema).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers

# Strings the serializers accept: DRF refuses NUL characters in every CharField.
NO_NUL = "^[^\\u0000]*$"


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's, with the input rules DRF applies that it leaves out: a
    CharField refuses NUL and, unless ``allow_blank``, the empty string; a list
    serializer refuses an empty list unless ``allow_empty`` and one over ``max_length``.
    (Input text fields do not trim whitespace, so lengths mean the raw string's.)"""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if not isinstance(schema, dict):
            return schema
        if isinstance(field, serializers.CharField) and schema.get("type") == "string":
            if not field.allow_blank and not schema.get("minLength"):
                schema["minLength"] = 1
            if not any(key in schema for key in ("pattern", "format", "enum")):
                schema["pattern"] = NO_NUL
        if isinstance(field, serializers.ListSerializer) and schema.get("type") == "array":
            if not field.allow_empty:
                schema.setdefault("minItems", 1)
            if field.max_length is not None:
                schema.setdefault("maxItems", field.max_length)
        return schema


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(props: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict:
    return {
        "type": "object",
        "properties": props,
        "required": [name for name in props if name not in optional],
    }


def _all(*parts: dict) -> dict:
    return {"allOf": list(parts)}


STR = {"type": "string"}
INT = {"type": "integer"}
NUM = {"type": "number"}
BOOL = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
NSTR = {"type": "string", "nullable": True}
NNUM = {"type": "number", "nullable": True}
NTIME = {"type": "string", "format": "date-time", "nullable": True}
MONEY = {"type": "string", "pattern": "^-?\\d+(\\.\\d+)?$", "description": "decimal string"}
TRUE = {"type": "boolean", "enum": [True]}
BLANK = {"type": "string", "pattern": "^\\s*$", "description": "blank: not given"}


def _enum(*values: str) -> dict:
    return {"type": "string", "enum": list(values)}


def _array(items: dict) -> dict:
    return {"type": "array", "items": items}


def _envelope(data: dict) -> dict:
    """``{success: true, data}``: gamification and events reads."""
    return _obj({"success": TRUE, "data": data})


EVENT_CATEGORY = _enum(
    "DANZA", "MUSICA", "GASTRONOMIA", "ARTESANIA", "CEREMONIA", "DESFILE", "OTRO"
)
EXPERIENCE_CATEGORY = _enum("TOUR", "TALLER", "DEGUSTACION", "CLASE", "VISITA")
BOOKING_STATUS = _enum(
    "PENDING_PAYMENT", "PENDING", "PAYMENT_FAILED", "CONFIRMED", "CANCELLED", "COMPLETED"
)

COMPONENTS: dict[str, dict] = {
    # --- errors -------------------------------------------------------------------------
    "Error": {
        **_obj(
            {
                "success": {"type": "boolean", "enum": [False]},
                "error": STR,
                "message": STR,
                "details": _array(_obj({"field": STR, "message": STR})),
            },
            optional=("details",),
        ),
        "description": "Every JSON error: `error` and `message` hold the same text; "
        "validation errors add `details`.",
    },
    "ConcurrencyError": {
        **_obj({"error": _enum("ConcurrencyError"), "message": STR, "hint": STR}),
        "additionalProperties": False,
        "description": "The optimistic-lock conflict (exactly these three keys).",
    },
    "RateLimited": _all(
        ref("Error"),
        _obj(
            {
                "statusCode": INT,
                "retryAfter": INT,
                "limit": INT,
                "remaining": INT,
                "resetTime": INT,
            },
            optional=("resetTime",),
        ),
    ),
    # --- auth ---------------------------------------------------------------------------
    "AuthUser": _obj(
        {
            "id": STR,
            "email": STR,
            "nombre": STR,
            "apellido": NSTR,
            "avatar": NSTR,
            "region": NSTR,
            "role": _enum("USER", "MODERATOR", "ADMIN"),
        }
    ),
    "AuthUserCreated": _all(ref("AuthUser"), _obj({"createdAt": TIME})),
    "Me": _all(ref("AuthUserCreated"), _obj({"_count": _obj({"stories": INT, "likes": INT})})),
    "TokenPair": _obj(
        {"accessToken": STR, "refreshToken": STR, "expiresIn": INT},
    ),
    "Login": _all(ref("TokenPair"), _obj({"success": TRUE, "user": ref("AuthUser"), "token": STR})),
    "Register": _all(
        ref("TokenPair"),
        _obj({"success": TRUE, "user": ref("AuthUserCreated"), "token": STR}),
    ),
    "Refresh": _all(ref("TokenPair"), _obj({"success": TRUE})),
    # --- gamification -------------------------------------------------------------------
    "UserStats": _obj(
        {
            "xp": INT,
            "level": INT,
            "xpForNextLevel": INT,
            "xpProgress": {"type": "number", "minimum": 0, "maximum": 100},
            "currentStreak": INT,
            "longestStreak": INT,
            "rank": INT,
        }
    ),
    "Badge": _obj(
        {
            "id": STR,
            "code": STR,
            "name": STR,
            "description": STR,
            "icon": STR,
            "category": _enum("STORIES", "SOCIAL", "ENGAGEMENT", "STREAK", "SPECIAL"),
            "xpReward": INT,
            "threshold": INT,
            "unlockedAt": {**TIME, "description": "absent while locked"},
            "isUnlocked": BOOL,
        },
        optional=("unlockedAt",),
    ),
    "CheckIn": _obj(
        {"streak": INT, "isNewDay": BOOL, "xpAwarded": INT, "newBadges": _array(ref("Badge"))}
    ),
    "LeaderboardEntry": _obj(
        {"rank": INT, "userId": STR, "nombre": STR, "avatar": NSTR, "xp": INT, "level": INT}
    ),
    "Leaderboard": _obj({"entries": _array(ref("LeaderboardEntry")), "total": INT}),
    # --- events -------------------------------------------------------------------------
    "EventItem": _obj(
        {
            "id": STR,
            "title": STR,
            "description": STR,
            "imageUrl": NSTR,
            "location": STR,
            "latitude": NNUM,
            "longitude": NNUM,
            "startDate": TIME,
            "endDate": NTIME,
            "category": EVENT_CATEGORY,
            "isOfficial": BOOL,
            "rsvpCount": INT,
            "hasRSVP": {**BOOL, "description": "present only for an identified caller"},
            "hasReminder": {**BOOL, "description": "present only for an identified caller"},
        },
        optional=("hasRSVP", "hasReminder"),
    ),
    "EventDetail": _all(ref("EventItem"), _obj({"createdAt": TIME, "updatedAt": TIME})),
    "EventPage": _obj({"events": _array(ref("EventItem")), "hasMore": BOOL, "total": INT}),
    "MyRsvps": _obj({"events": _array(ref("EventItem")), "total": INT}),
    "Done": _obj({"success": TRUE, "message": STR}),
    # --- experiences and bookings -------------------------------------------------------
    "Message": _obj({"message": STR}),
    "HostSummary": _obj({"id": STR, "nombre": STR, "apellido": NSTR, "avatar": NSTR}),
    "ExperienceRow": _obj(
        {
            "id": STR,
            "hostId": STR,
            "title": STR,
            "description": STR,
            "imageUrl": NSTR,
            "images": _array(STR),
            "category": EXPERIENCE_CATEGORY,
            "price": MONEY,
            "duration": INT,
            "maxCapacity": INT,
            "location": STR,
            "latitude": NNUM,
            "longitude": NNUM,
            "includes": _array(STR),
            "languages": _array(STR),
            "isActive": BOOL,
            "rating": NUM,
            "reviewCount": INT,
            "createdAt": TIME,
            "updatedAt": TIME,
        }
    ),
    "ExperienceWithHost": _all(ref("ExperienceRow"), _obj({"host": ref("HostSummary")})),
    "ExperienceListItem": _all(
        ref("ExperienceWithHost"), _obj({"_count": _obj({"reviews": INT, "bookings": INT})})
    ),
    "ExperienceDetail": _all(
        ref("ExperienceWithHost"),
        _obj(
            {
                "reviews": _array(ref("ReviewWithUser")),
                "_count": _obj({"reviews": INT, "bookings": INT}),
            }
        ),
    ),
    "HostExperience": _all(
        ref("ExperienceRow"),
        _obj({"_count": _obj({"bookings": INT, "reviews": INT, "timeSlots": INT})}),
    ),
    "Pagination": _obj({"page": INT, "limit": INT, "total": INT, "totalPages": INT}),
    "ExperiencePage": _obj(
        {"experiences": _array(ref("ExperienceListItem")), "pagination": ref("Pagination")}
    ),
    "TimeSlotRow": _obj(
        {
            "id": STR,
            "experienceId": STR,
            "date": {**TIME, "description": "the slot's day at midnight UTC"},
            "startTime": {"type": "string", "pattern": "^\\d{2}:\\d{2}$"},
            "endTime": {"type": "string", "pattern": "^\\d{2}:\\d{2}$"},
            "capacity": INT,
            "bookedCount": INT,
            "isAvailable": BOOL,
            "version": INT,
            "createdAt": TIME,
        }
    ),
    "AvailableSlot": _all(ref("TimeSlotRow"), _obj({"availableSpots": INT})),
    "SlotsCreated": _obj({"created": INT}),
    "ReviewWithUser": _obj(
        {
            "id": STR,
            "userId": STR,
            "experienceId": STR,
            "rating": {"type": "integer", "minimum": 1, "maximum": 5},
            "comment": NSTR,
            "createdAt": TIME,
            "user": _obj({"id": STR, "nombre": STR, "avatar": NSTR}),
        }
    ),
    "BookingRow": _obj(
        {
            "id": STR,
            "userId": STR,
            "experienceId": STR,
            "timeSlotId": STR,
            "status": BOOKING_STATUS,
            "guestCount": INT,
            "totalPrice": MONEY,
            "specialRequests": NSTR,
            "stripePaymentId": NSTR,
            "confirmedAt": NTIME,
            "cancelledAt": NTIME,
            "createdAt": TIME,
            "updatedAt": TIME,
        }
    ),
    "BookingFull": _all(
        ref("BookingRow"),
        _obj({"experience": ref("ExperienceWithHost"), "timeSlot": ref("TimeSlotRow")}),
    ),
    "BookingDetail": _all(
        ref("BookingFull"),
        _obj({"user": _obj({"id": STR, "nombre": STR, "apellido": NSTR, "email": STR})}),
    ),
    "BookingCreated": _obj(
        {
            "booking": ref("BookingFull"),
            "clientSecret": {"type": "string", "nullable": True, "enum": [None]},
        }
    ),
    "BookingPage": _obj({"bookings": _array(ref("BookingFull")), "pagination": ref("Pagination")}),
    "HostBooking": _all(
        ref("BookingRow"),
        _obj(
            {
                "experience": ref("ExperienceRow"),
                "timeSlot": ref("TimeSlotRow"),
                "user": _obj(
                    {"id": STR, "nombre": STR, "apellido": NSTR, "email": STR, "avatar": NSTR}
                ),
            }
        ),
    ),
    "HostBookingPage": _obj(
        {"bookings": _array(ref("HostBooking")), "pagination": ref("Pagination")}
    ),
}

ERROR_TEXT = {
    400: "Invalid input, or a request the current state refuses (message per route)",
    401: "No or bad token: `No autorizado`; token of a deleted user: `Usuario no encontrado`",
    403: "Forbidden (suspended account, or not the owner/host)",
    404: "Not found",
    409: "Conflict",
    413: "Body too large",
    415: "Body is not JSON",
    422: "Validation error (`details` lists the fields)",
    429: "Rate limit exceeded",
}


@dataclass(frozen=True)
class Op:
    """One operation's contract.

    ``auth``: "none" (the token is ignored), "optional" (a valid token identifies the
    caller, anything else is anonymous) or "required" (401 without a valid token, 403
    for a suspended account). ``errors``: statuses besides 401/403 of required auth,
    the body statuses (400/413/415 when ``body``) and 429, which every route shares.
    ``cached``: a cached read that sends an ETag and answers 304 to If-None-Match.
    """

    auth: str
    status: int
    schema: dict | None
    errors: tuple[int, ...] = ()
    body: bool = False
    cached: bool = False
    description: str = ""
    error_schemas: dict[int, dict] = field(default_factory=dict)
    # Query parameters sent empty (or blank) count as not given (the UI's builders).
    blank_query: bool = False


_ME = "/api/auth/me"
OPERATIONS: dict[tuple[str, str], Op] = {
    # auth: 422 for validation inside the handlers
    ("post", "/api/auth/register"): Op(
        "none", 201, ref("Register"), (422,), body=True, description="400: email taken"
    ),
    ("post", "/api/auth/login"): Op("none", 200, ref("Login"), (401, 403, 422), body=True),
    ("post", "/api/auth/refresh"): Op("none", 200, ref("Refresh"), (401,), body=True),
    ("get", _ME): Op("required", 200, ref("Me"), (404,)),
    ("put", _ME): Op("required", 200, ref("AuthUser"), (422,), body=True),
    # gamification
    ("get", "/api/gamification/me/stats"): Op(
        "required", 200, _envelope(ref("UserStats")), cached=True
    ),
    ("get", "/api/gamification/me/badges"): Op(
        "required", 200, _envelope(_array(ref("Badge"))), cached=True
    ),
    ("get", "/api/gamification/badges"): Op(
        "required", 200, _envelope(_array(ref("Badge"))), cached=True
    ),
    ("post", "/api/gamification/me/check-in"): Op("required", 200, _envelope(ref("CheckIn"))),
    ("post", "/api/gamification/check-in"): Op("required", 200, _envelope(ref("CheckIn"))),
    ("get", "/api/gamification/leaderboard"): Op(
        "none", 200, _envelope(ref("Leaderboard")), (400,), cached=True
    ),
    ("get", "/api/gamification/users/{user_id}/stats"): Op(
        "none", 200, _envelope(ref("UserStats")), (404,), cached=True
    ),
    ("get", "/api/gamification/users/{user_id}/badges"): Op(
        "none", 200, _envelope(_array(ref("Badge"))), cached=True
    ),
    # events
    ("get", "/api/events"): Op(
        "optional", 200, _envelope(ref("EventPage")), (400,), cached=True, blank_query=True
    ),
    ("get", "/api/events/{event_id}"): Op(
        "optional", 200, _envelope(ref("EventDetail")), (404,), cached=True
    ),
    ("get", "/api/events/my-rsvps"): Op("required", 200, _envelope(ref("MyRsvps")), cached=True),
    ("post", "/api/events/{event_id}/rsvp"): Op(
        "required", 200, ref("Done"), (400, 404), description="400: already RSVPed"
    ),
    ("delete", "/api/events/{event_id}/rsvp"): Op(
        "required", 200, ref("Done"), description="Idempotent: no 404."
    ),
    ("post", "/api/events/{event_id}/reminder"): Op(
        "required", 200, ref("Done"), (404,), body=True
    ),
    ("delete", "/api/events/{event_id}/reminder"): Op(
        "required", 200, ref("Done"), description="Idempotent: no 404."
    ),
    # experiences, slots, reviews, host dashboard
    ("get", "/api/bookings/experiences"): Op(
        "none", 200, ref("ExperiencePage"), (400,), cached=True
    ),
    ("post", "/api/bookings/experiences"): Op(
        "required", 201, ref("ExperienceWithHost"), body=True
    ),
    ("get", "/api/bookings/experiences/{id}"): Op(
        "none", 200, ref("ExperienceDetail"), (404,), cached=True
    ),
    ("put", "/api/bookings/experiences/{id}"): Op(
        "required", 200, ref("ExperienceWithHost"), (404,), body=True
    ),
    ("delete", "/api/bookings/experiences/{id}"): Op(
        "required", 200, ref("Message"), (404,), description="A soft delete (isActive=false)."
    ),
    ("get", "/api/bookings/experiences/{id}/slots"): Op(
        "none", 200, _array(ref("AvailableSlot")), (400, 404), cached=True
    ),
    ("post", "/api/bookings/experiences/{id}/slots"): Op(
        "required", 201, ref("SlotsCreated"), (404,), body=True
    ),
    ("post", "/api/bookings/experiences/{id}/reviews"): Op(
        "required", 201, ref("ReviewWithUser"), (404,), body=True
    ),
    ("delete", "/api/bookings/slots/{id}"): Op(
        "required", 200, ref("Message"), (400, 404), description="400: the slot has bookings"
    ),
    ("get", "/api/bookings/host/experiences"): Op("required", 200, _array(ref("HostExperience"))),
    ("get", "/api/bookings/host/bookings"): Op("required", 200, ref("HostBookingPage"), (400,)),
    # bookings
    ("get", "/api/bookings/bookings"): Op("required", 200, ref("BookingPage"), (400,)),
    ("post", "/api/bookings/bookings"): Op(
        "required",
        201,
        ref("BookingCreated"),
        (404, 409, 422),
        body=True,
        description="422: an Idempotency-Key reused with another body",
        error_schemas={409: {"anyOf": [ref("Error"), ref("ConcurrencyError")]}},
    ),
    ("get", "/api/bookings/bookings/{id}"): Op("required", 200, ref("BookingDetail"), (404,)),
    ("post", "/api/bookings/bookings/{id}/confirm"): Op(
        "required", 200, ref("BookingFull"), (400, 404)
    ),
    ("post", "/api/bookings/bookings/{id}/cancel"): Op(
        "required",
        200,
        ref("BookingFull"),
        (400, 404, 409),
        error_schemas={409: ref("ConcurrencyError")},
    ),
    ("post", "/api/bookings/bookings/{id}/complete"): Op(
        "required", 200, ref("BookingFull"), (400, 404)
    ),
    ("post", "/api/bookings/bookings/{id}/retry-payment"): Op(
        "required", 404, None, description="Payments are out of scope: always 404."
    ),
}

SECURITY = {
    "none": [],
    "optional": [{"BearerAuth": []}, {}],
    "required": [{"BearerAuth": []}],
}

# Public routes take no token at all; a body-less 2xx/304 has no content.
_JSON = "application/json"


def _json(schema: dict) -> dict:
    return {_JSON: {"schema": schema}}


def _responses(op: Op) -> dict:
    responses: dict[str, dict] = {}
    if op.schema is not None:
        ok: dict[str, Any] = {"description": "OK", "content": _json(op.schema)}
        if op.cached:
            ok["headers"] = {"ETag": {"schema": STR, "description": "validator for If-None-Match"}}
        responses[str(op.status)] = ok
    if op.cached:
        responses["304"] = {"description": "Not Modified: If-None-Match holds the current ETag"}
    statuses = set(op.errors) | {429}
    if op.status >= 400:
        statuses.add(op.status)
    if op.auth == "required":
        statuses |= {401, 403}
    if op.body:
        statuses |= {400, 413, 415}
    for status in sorted(statuses):
        schema = op.error_schemas.get(status)
        if schema is None:
            schema = ref("RateLimited") if status == 429 else ref("Error")
        text = ERROR_TEXT.get(status, "Error")
        if status == op.status:
            text = op.description or text
        responses[str(status)] = {"description": text, "content": _json(schema)}
    return responses


def _if_none_match() -> dict:
    return {
        "in": "header",
        "name": "If-None-Match",
        "required": False,
        "schema": STR,
        "description": "An ETag from an earlier 200: the answer is 304 while it is current",
    }


def _merge_blank_alternative(node: Any) -> None:
    """drf-spectacular states ``allow_blank`` as ``oneOf: [<string>, {maxLength: 0}]``;
    when <string> admits "" itself, "" matches both branches and oneOf refuses it. The
    single <string> schema says the same thing without that contradiction."""
    if isinstance(node, dict):
        branches = node.get("oneOf")
        if (
            isinstance(branches, list)
            and len(branches) == 2
            and branches[1] == {"type": "string", "maxLength": 0}
            and branches[0].get("type") == "string"
            and not branches[0].get("minLength")
            and branches[0].get("pattern", NO_NUL) == NO_NUL
            and "format" not in branches[0]
        ):
            del node["oneOf"]
            node.update(branches[0])
        for value in node.values():
            _merge_blank_alternative(value)
    elif isinstance(node, list):
        for item in node:
            _merge_blank_alternative(item)


def postprocess(result: dict, generator, request, public) -> dict:
    """POSTPROCESSING_HOOK: apply :data:`OPERATIONS` to every operation."""
    result = copy.deepcopy(result)
    components = result.setdefault("components", {}).setdefault("schemas", {})
    _merge_blank_alternative(components)
    _merge_blank_alternative(result.get("paths", {}))  # query parameters
    components.update(copy.deepcopy(COMPONENTS))
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            op = OPERATIONS.get((method, path))
            if op is None:
                raise KeyError(f"{method.upper()} {path} has no entry in guelaguetza.api.schema")
            operation["responses"] = _responses(op)
            operation["security"] = copy.deepcopy(SECURITY[op.auth])
            if op.description:
                operation["description"] = op.description
            params = operation.setdefault("parameters", [])
            if op.blank_query:
                for param in params:
                    if param["in"] == "query":
                        param["schema"] = {"anyOf": [param["schema"], BLANK]}
            if op.cached:
                params.append(_if_none_match())
            if not params:
                del operation["parameters"]
    return result
