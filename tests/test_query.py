"""Query strings (guelaguetza/api/query.py): the exact 400 bodies the routes answer for
bad input, what the parsed dict holds, and the rules every query shares (a repeated
parameter counts with its last value, an unknown one is ignored)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.http import QueryDict

from events.serializers import EVENT_LIST_QUERY
from experiences.serializers import EXPERIENCE_LIST_QUERY, SLOTS_QUERY
from gamification.serializers import LEADERBOARD_QUERY
from guelaguetza.errors import Invalid

pytestmark = pytest.mark.django_db

BOARD = "/api/gamification/leaderboard"
EVENTS = "/api/events"
EXPERIENCES = "/api/bookings/experiences"
SLOTS = "/api/bookings/experiences/cnope/slots"  # the query is refused before the lookup

DIGITS_ONLY = "Debe ser un número entero."
NOT_INTEGER = "Introduzca un número entero válido."
NOT_NUMBER = "Se requiere un número válido."
END_BEFORE_START = "endDate debe ser >= startDate"
OVER_A_YEAR = "El rango máximo es de un año"
BAD_DAY = "Fecha inválida, usa YYYY-MM-DD"
REQUIRED = "Este campo es requerido."


def at_least(limit) -> str:
    return f"Asegúrese de que este valor es mayor o igual a {limit}."


AT_LEAST_1 = at_least(1)


def at_most(limit) -> str:
    return f"Asegúrese de que este valor es menor o igual a {limit}."


def not_a_choice(value: str) -> str:
    return f'"{value}" no es una elección válida.'


BAD = [
    # leaderboard: digits only, so "-1", "+1" (" 1"), "1.5" and "" are not integers
    (BOARD, "page=abc", [("page", DIGITS_ONLY)]),
    (BOARD, "page=1.5", [("page", DIGITS_ONLY)]),
    (BOARD, "page=", [("page", DIGITS_ONLY)]),
    (BOARD, "page=+1", [("page", DIGITS_ONLY)]),
    (BOARD, "page=-1", [("page", DIGITS_ONLY)]),
    (BOARD, "page=0", [("page", AT_LEAST_1)]),
    (BOARD, "page=1000000000", [("page", DIGITS_ONLY)]),  # 10 digits
    (BOARD, "limit=101", [("limit", at_most(100))]),
    (BOARD, "page=2&page=abc", [("page", DIGITS_ONLY)]),  # the last one counts
    (BOARD, "limit=0&page=abc", [("page", DIGITS_ONLY), ("limit", AT_LEAST_1)]),
    # events: "+1" and " 1" are 1, "-1" is not an integer [F12]
    (EVENTS, "page=1.5", [("page", NOT_INTEGER)]),
    (EVENTS, "page=1e3", [("page", NOT_INTEGER)]),
    (EVENTS, "page=-1", [("page", NOT_INTEGER)]),
    (EVENTS, "page=0", [("page", AT_LEAST_1)]),
    (EVENTS, "page=100001", [("page", at_most(100000))]),
    (EVENTS, "limit=51", [("limit", at_most(50))]),
    (EVENTS, "category=danza", [("category", not_a_choice("danza"))]),
    (EVENTS, "startDate=not-a-date", [("startDate", "Fecha inválida")]),
    (EVENTS, "endDate=2026-13-45", [("endDate", "Fecha inválida")]),
    (
        EVENTS,
        "category=X&startDate=x&endDate=y&page=0&limit=0",
        [
            ("category", not_a_choice("X")),
            ("startDate", "Fecha inválida"),
            ("endDate", "Fecha inválida"),
            ("page", AT_LEAST_1),
            ("limit", AT_LEAST_1),
        ],
    ),
    # experiences: "-1" is an integer below the minimum; empty values are bad input
    (EXPERIENCES, "page=x", [("page", NOT_INTEGER)]),
    (EXPERIENCES, "page=", [("page", NOT_INTEGER)]),
    (EXPERIENCES, "page=-1", [("page", AT_LEAST_1)]),
    (EXPERIENCES, "page=100001", [("page", at_most(100000))]),
    (EXPERIENCES, "limit=51", [("limit", at_most(50))]),
    (EXPERIENCES, "category=DANZA", [("category", not_a_choice("DANZA"))]),
    (EXPERIENCES, "category=", [("category", not_a_choice(""))]),
    (EXPERIENCES, "minPrice=abc", [("minPrice", NOT_NUMBER)]),
    (EXPERIENCES, "maxPrice=NaN", [("maxPrice", NOT_NUMBER)]),
    (EXPERIENCES, "minPrice=1e400", [("minPrice", at_most("1E+12"))]),
    (EXPERIENCES, "maxPrice=-1e13", [("maxPrice", at_least("-1E+12"))]),
    (EXPERIENCES, "minPrice=" + "1" * 1001, [("minPrice", "Cadena demasiado larga.")]),
    (EXPERIENCES, "date=2026-02-30", [("date", BAD_DAY)]),
    (
        EXPERIENCES,
        "search=%00" + "y" * 200,
        [
            ("search", "Asegúrese de que este campo no tenga más de 200 caracteres."),
            ("search", "Caracteres nulos no están permitidos."),
        ],
    ),
    (
        EXPERIENCES,
        "minPrice=abc&maxPrice=abc&page=0&category=X&date=x&search=%00",
        [
            ("page", AT_LEAST_1),
            ("category", not_a_choice("X")),
            ("minPrice", NOT_NUMBER),
            ("maxPrice", NOT_NUMBER),
            ("date", BAD_DAY),
            ("search", "Caracteres nulos no están permitidos."),
        ],
    ),
    # slots: startDate required; endDate from startDate to a year (366 days) after it
    (SLOTS, "", [("startDate", REQUIRED)]),
    (SLOTS, "startDate=2026-02-30", [("startDate", BAD_DAY)]),
    (SLOTS, "startDate=2026-07-01T00:00", [("startDate", BAD_DAY)]),
    (SLOTS, "endDate=x", [("startDate", REQUIRED), ("endDate", BAD_DAY)]),
    (SLOTS, "startDate=2026-07-03&endDate=2026-07-01", [("endDate", END_BEFORE_START)]),
    (SLOTS, "startDate=2026-07-01&endDate=2027-07-03", [("endDate", OVER_A_YEAR)]),
]


@pytest.mark.parametrize(("path", "query", "details"), BAD)
def test_bad_query_answers_the_exact_400_body(api_client, path, query, details):
    response = api_client.get(f"{path}?{query}")

    assert response.status_code == 400
    first = f"{details[0][0]} {details[0][1]}"
    assert response.json() == {
        "success": False,
        "error": first,
        "message": first,
        "details": [{"field": f, "message": m} for f, m in details],
    }


@pytest.mark.parametrize("path", ["/api/bookings/bookings", "/api/bookings/host/bookings"])
def test_booking_lists_answer_the_same_400_bodies(auth_client, path):
    body = auth_client.get(f"{path}?status=NOPE&page=-1").json()

    assert body["details"] == [
        {"field": "page", "message": AT_LEAST_1},
        {"field": "status", "message": not_a_choice("NOPE")},
    ]


@pytest.mark.parametrize(
    ("path", "query", "same_as"),
    [
        (BOARD, "page=abc&page=2&limit=5&foo=bar", "page=2&limit=5"),
        (EVENTS, "page=abc&page=1&startDate=2026-07-01&search=x", "startDate=2026-07-01"),
        (EVENTS, "category=&page=%20&startDate=", ""),  # blank is "not given"
        (EXPERIENCES, "category=NOPE&category=TOUR&status=x", "category=TOUR"),
    ],
)
def test_last_repeated_value_counts_and_unknown_parameters_are_ignored(
    api_client, path, query, same_as
):
    response = api_client.get(f"{path}?{query}")

    assert response.status_code == 200
    assert response.content == api_client.get(f"{path}?{same_as}").content


def test_parse_returns_the_selectors_arguments():
    assert LEADERBOARD_QUERY.parse(QueryDict("")) == {"page": 1, "limit": 20}
    assert EVENT_LIST_QUERY.parse(QueryDict("startDate=2026-07&limit=%2B5")) == {
        "category": None,
        "start": dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
        "end": None,
        "page": 1,
        "limit": 5,
    }
    assert EXPERIENCE_LIST_QUERY.parse(QueryDict("minPrice=%2010.50&page=%202")) == {
        "page": 2,
        "limit": 10,
        "category": None,
        "min_price": Decimal("10.50"),
        "max_price": None,
        "date": None,
        "search": None,
    }
    # The slot range's dates are the key's strings; endDate defaults to startDate.
    assert SLOTS_QUERY.parse(QueryDict("startDate=2026-07-01")) == {
        "start": "2026-07-01",
        "end": "2026-07-01",
    }


def test_parse_or_none_is_none_exactly_where_parse_refuses():
    for query in ("page=0", "limit=abc", "page=1&page=x"):
        with pytest.raises(Invalid):
            LEADERBOARD_QUERY.parse(QueryDict(query))
        assert LEADERBOARD_QUERY.parse_or_none(QueryDict(query)) is None
    assert LEADERBOARD_QUERY.parse_or_none(QueryDict("page=x&page=3")) == {"page": 3, "limit": 20}
