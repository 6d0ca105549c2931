"""Bodies are validated as /api/schema describes them: JSON types as stated, text as
sent, prices rounded to cents, non-empty ids, and OPTIONS answered without a 500."""

from decimal import Decimal

import pytest

from experiences.models import Experience
from tests.factories import ExperienceFactory, UserFactory
from tests.helpers import assert_error, client_for

pytestmark = pytest.mark.django_db

NEW = {
    "title": "Taller de alebrijes",
    "description": "Talla y pinta tu propio alebrije con una familia de artesanos.",
    "category": "TALLER",
    "price": 350.5,
    "duration": 180,
    "maxCapacity": 8,
    "location": "San Martín Tilcajete",
}


@pytest.fixture
def host_client():
    return client_for(UserFactory())


def create(client, **changes):
    return client.post("/api/bookings/experiences", {**NEW, **changes}, format="json")


def test_price_with_more_than_two_decimals_is_rounded_half_up_to_cents(host_client):
    response = create(host_client, price=0.015)
    assert response.status_code == 201, response.content
    assert response.json()["price"] == "0.02"
    assert Experience.objects.get(pk=response.json()["id"]).price == Decimal("0.02")


def test_price_as_a_money_string_is_accepted(host_client):
    assert create(host_client, price="99999999.99").json()["price"] == "99999999.99"


@pytest.mark.parametrize("price", ["1.234", "0", "0.00", "abc", True, 0.001, 100000000])
def test_price_outside_the_documented_forms_is_400(host_client, price):
    assert_error(create(host_client, price=price), 400)


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", 12345), ("duration", "180"), ("latitude", "17.0"), ("languages", ["es", 1])],
)
def test_a_body_value_of_the_wrong_json_type_is_400(host_client, field, value):
    body = assert_error(create(host_client, **{field: value}), 400)
    assert body["details"][0]["field"] == field


def test_is_active_must_be_a_boolean(host_client):
    experience = create(host_client).json()
    response = host_client.put(
        f"/api/bookings/experiences/{experience['id']}", {"isActive": 0}, format="json"
    )
    assert_error(response, 400)


def test_text_is_stored_as_sent_without_trimming(host_client):
    response = create(host_client, title="  Tour  ")
    assert response.status_code == 201 and response.json()["title"] == "  Tour  "


@pytest.mark.parametrize("url", ["notaurl", "ftp://example.com/x.png", "https://exa mple.com"])
def test_image_urls_must_be_http_urls(host_client, url):
    assert_error(create(host_client, imageUrl=url), 400)


def test_a_blank_booking_id_is_400_and_a_padded_one_is_an_unknown_id(host_client):
    experience = ExperienceFactory()
    blank = {"experienceId": "", "timeSlotId": "x"}
    assert_error(host_client.post("/api/bookings/bookings", blank, format="json"), 400)
    padded = {"experienceId": f" {experience.id}", "timeSlotId": "x"}
    assert_error(host_client.post("/api/bookings/bookings", padded, format="json"), 404)


def test_guest_count_as_a_string_is_400(host_client):
    body = {"experienceId": "a", "timeSlotId": "b", "guestCount": "2"}
    assert_error(host_client.post("/api/bookings/bookings", body, format="json"), 400)


def test_register_with_a_number_for_a_text_field_is_422(api_client):
    body = {"email": "n@example.com", "password": "secreto1", "nombre": "Ana", "region": 0}
    response = api_client.post("/api/auth/register", body, format="json")
    assert_error(response, 422, "Error de validación")


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/bookings/experiences", "/api/events"])
def test_options_describes_the_route_instead_of_failing(host_client, path):
    response = host_client.options(path)
    assert response.status_code == 200
    assert response.json()["name"]


@pytest.mark.parametrize(
    "path", ["/api/gamification/leaderboard", "/api/gamification/me/stats", "/api/events"]
)
def test_a_method_the_route_does_not_serve_is_405_even_without_a_token(api_client, path):
    assert_error(api_client.generic("TRACE", path), 405, "Método no permitido")
