"""/api/schema states the contract: what each fixed operation answers, with what body,
under which auth, and input rules that match what the serializers accept."""

import json

import pytest
from rest_framework.test import APIClient

from guelaguetza.api.schema import OPERATIONS

ERROR_REF = "#/components/schemas/Error"


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def op(schema, method: str, path: str) -> dict:
    return schema["paths"][path][method]


def body_schema(schema, method: str, path: str, status: str) -> dict:
    return op(schema, method, path)["responses"][status]["content"]["application/json"]["schema"]


def component(schema, name: str) -> dict:
    return schema["components"]["schemas"][name]


def resolve(schema, node: dict) -> dict:
    while "$ref" in node:
        node = component(schema, node["$ref"].rsplit("/", 1)[1])
    return node


def test_every_operation_of_the_schema_has_a_contract_entry(schema):
    documented = {(m, p) for p, item in schema["paths"].items() for m in item}
    assert documented == set(OPERATIONS)


def test_every_error_status_is_documented_with_the_api_error_body(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
            assert "429" in errors, (method, path)
            for status, response in errors.items():
                body = response["content"]["application/json"]["schema"]
                refs = json.dumps(body)
                assert ERROR_REF in refs or "ConcurrencyError" in refs or "RateLimited" in refs, (
                    method,
                    path,
                    status,
                )


def test_error_body_has_success_false_error_message_and_optional_details(schema):
    error = component(schema, "Error")
    assert set(error["required"]) == {"success", "error", "message"}
    assert error["properties"]["success"]["enum"] == [False]
    assert error["properties"]["details"]["type"] == "array"
    assert set(component(schema, "ConcurrencyError")["required"]) == {"error", "message", "hint"}


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("get", "/api/auth/me", {"200", "401", "403", "404"}),
        ("put", "/api/auth/me", {"200", "400", "401", "422"}),
        ("post", "/api/bookings/bookings", {"201", "400", "401", "404", "409", "422"}),
        ("post", "/api/bookings/bookings/{id}/cancel", {"200", "400", "403", "404", "409"}),
        ("get", "/api/events/{event_id}", {"200", "304", "404"}),
        ("get", "/api/gamification/users/{user_id}/stats", {"200", "304", "404"}),
        ("get", "/api/bookings/experiences/{id}/slots", {"200", "304", "400", "404"}),
        ("post", "/api/bookings/bookings/{id}/retry-payment", {"404"}),
    ],
)
def test_routes_document_their_api_md_statuses(schema, method, path, statuses):
    assert statuses <= set(op(schema, method, path)["responses"])


def test_booking_conflict_documents_both_409_bodies(schema):
    body = json.dumps(body_schema(schema, "post", "/api/bookings/bookings", "409"))
    assert ERROR_REF in body and "ConcurrencyError" in body


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/api/bookings/experiences/{id}"),
        ("delete", "/api/bookings/slots/{id}"),
        ("delete", "/api/events/{event_id}/rsvp"),
        ("delete", "/api/events/{event_id}/reminder"),
    ],
)
def test_deletes_are_documented_as_200_with_their_body_not_204(schema, method, path):
    responses = op(schema, method, path)["responses"]
    assert "204" not in responses
    assert "message" in resolve(schema, body_schema(schema, method, path, "200"))["required"]


def test_register_is_documented_as_201(schema):
    responses = op(schema, "post", "/api/auth/register")["responses"]
    assert "201" in responses and "200" not in responses


@pytest.mark.parametrize(
    ("path", "component_name"),
    [
        ("/api/auth/login", "LoginInput"),
        ("/api/auth/register", "RegisterInput"),
        ("/api/auth/refresh", "RefreshInput"),
    ],
)
def test_auth_entry_points_are_public_and_take_a_body(schema, path, component_name):
    operation = op(schema, "post", path)
    assert operation["security"] == []
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith(f"/{component_name}")


def test_login_body_requires_email_and_a_non_empty_password(schema):
    login = component(schema, "LoginInput")
    assert set(login["required"]) == {"email", "password"}
    assert login["properties"]["password"]["minLength"] == 1


@pytest.mark.parametrize(
    ("method", "path", "security"),
    [
        ("get", "/api/gamification/leaderboard", []),
        ("get", "/api/bookings/experiences", []),
        ("get", "/api/events", [{"BearerAuth": []}, {}]),  # optional: a token identifies
        ("get", "/api/events/my-rsvps", [{"BearerAuth": []}]),
        ("post", "/api/bookings/bookings", [{"BearerAuth": []}]),
    ],
)
def test_security_matches_each_routes_auth_level(schema, method, path, security):
    assert op(schema, method, path)["security"] == security


def test_slots_and_host_experiences_are_arrays(schema):
    slots = body_schema(schema, "get", "/api/bookings/experiences/{id}/slots", "200")
    host = body_schema(schema, "get", "/api/bookings/host/experiences", "200")
    assert slots["type"] == "array" and host["type"] == "array"
    assert "availableSpots" in json.dumps(resolve(schema, slots["items"]))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/gamification/leaderboard"),
        ("get", "/api/gamification/me/stats"),
        ("get", "/api/gamification/me/badges"),
        ("get", "/api/gamification/badges"),
        ("get", "/api/gamification/users/{user_id}/stats"),
        ("get", "/api/gamification/users/{user_id}/badges"),
        ("get", "/api/events"),
        ("get", "/api/events/{event_id}"),
        ("get", "/api/events/my-rsvps"),
        ("get", "/api/bookings/experiences"),
        ("get", "/api/bookings/experiences/{id}"),
        ("get", "/api/bookings/experiences/{id}/slots"),
    ],
)
def test_cached_reads_document_etag_and_304_without_body(schema, method, path):
    operation = op(schema, method, path)
    assert "content" not in operation["responses"]["304"]
    assert "ETag" in operation["responses"]["200"]["headers"]
    assert any(p["name"] == "If-None-Match" for p in operation["parameters"])


@pytest.mark.parametrize(
    ("method", "path", "names"),
    [
        ("get", "/api/gamification/leaderboard", {"page", "limit"}),
        ("get", "/api/events", {"category", "startDate", "endDate", "page", "limit"}),
        (
            "get",
            "/api/bookings/experiences",
            {"category", "minPrice", "maxPrice", "date", "search", "page", "limit"},
        ),
        ("get", "/api/bookings/experiences/{id}/slots", {"startDate", "endDate"}),
    ],
)
def test_cached_reads_document_their_query_parameters(schema, method, path, names):
    params = {p["name"] for p in op(schema, method, path)["parameters"] if p["in"] == "query"}
    assert names == params


def test_ids_in_bodies_are_non_empty_and_nul_free(schema):
    booking = component(schema, "BookingCreate")["properties"]
    for name in ("experienceId", "timeSlotId"):
        assert booking[name]["minLength"] == 1
        assert booking[name]["pattern"] == "^[^\\u0000]*$"


def test_slot_lists_may_not_be_empty(schema):
    slots = component(schema, "SlotsCreate")["properties"]["slots"]
    assert slots["minItems"] == 1 and slots["maxItems"] == 200


def test_text_fields_refuse_nul(schema):
    experience = component(schema, "ExperienceCreate")["properties"]
    assert experience["title"]["pattern"] == "^[^\\u0000]*$"
    assert experience["includes"]["items"]["pattern"] == "^[^\\u0000]*$"


def test_price_is_a_bounded_number_or_a_money_string(schema):
    price = component(schema, "ExperienceCreate")["properties"]["price"]
    number, text = price["oneOf"]
    assert number == {"type": "number", "minimum": 0.01, "maximum": 99999999.99}
    assert text["type"] == "string"


def test_slot_range_rule_is_stated_in_the_parameter(schema):
    params = op(schema, "get", "/api/bookings/experiences/{id}/slots")["parameters"]
    end = next(p for p in params if p["name"] == "endDate")
    assert "año" in end["description"] or "year" in end["description"]


def test_query_parameters_state_type_default_bounds_choices_and_required(schema):
    def query(path: str) -> dict:
        params = op(schema, "get", path)["parameters"]
        return {p["name"]: p for p in params if p["in"] == "query"}

    board = query("/api/gamification/leaderboard")
    assert board["page"]["schema"] == {
        "type": "integer",
        "maximum": 999_999_999,
        "minimum": 1,
        "default": 1,
    }
    assert board["limit"]["schema"] == {
        "type": "integer",
        "maximum": 100,
        "minimum": 1,
        "default": 20,
    }
    experiences = query("/api/bookings/experiences")
    assert experiences["category"]["schema"]["enum"] == [
        "TOUR",
        "TALLER",
        "DEGUSTACION",
        "CLASE",
        "VISITA",
    ]
    assert experiences["minPrice"]["schema"] == {
        "type": "number",
        "format": "double",
        "maximum": 10**12,
        "minimum": -(10**12),
    }
    assert experiences["search"]["schema"]["maxLength"] == 200
    assert experiences["date"]["schema"] == {"type": "string", "format": "date"}
    slots = query("/api/bookings/experiences/{id}/slots")
    assert slots["startDate"]["required"] is True and "required" not in slots["endDate"]
    events = query("/api/events")
    assert events["limit"]["schema"]["anyOf"][0]["default"] == 20  # or blank: not given
    assert "format" in str(events["startDate"]["schema"])
