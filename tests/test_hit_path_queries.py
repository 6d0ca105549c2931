"""The hit path and the views read a query with the same declaration
(guelaguetza/api/query.py), so they cannot disagree: for any query string, either the
view answers 200 and the hit path then serves exactly the value the view stored, or the
hit path hands the request on (the view's 400, or an experiences filter whose key only
the view builds). Never a hit for a query the view refuses or keys differently."""

import pytest
from django.http import QueryDict

from guelaguetza.api.cached import CachedReadApp
from tests.factories import ExperienceFactory
from tests.helpers import wsgi_environ

ROUTES = {
    "leaderboard": "/api/gamification/leaderboard",
    "events": "/api/events",
    "experiences": "/api/bookings/experiences",
    "slots": "/api/bookings/experiences/{id}/slots",
}
QUERIES = [
    "",
    "page=1",
    "page=2&limit=5",
    "page=01",
    "page=+1",
    "page=%2B1",
    "page=1%20",
    "page=%D9%A1",  # an Arabic-Indic 1
    "page=0",
    "page=-1",
    "page=1.5",
    "page=",
    "page",
    "page=100001",
    "page=999999999",
    "page=1000000000",
    "limit=50",
    "limit=51",
    "limit=101",
    "page=1&page=2",
    "page=2&page=abc",
    "page=abc&page=2",
    "foo=bar&page=2",
    "category=TOUR",
    "category=DANZA",
    "category=",
    "category=DANZA&category=TOUR",
    "minPrice=10",
    "search=",
    "search=%20",
    "search=hola",
    "date=2026-07-01",
    "startDate=2026-07-01",
    "startDate=2026-07-01&endDate=2026-07-03",
    "startDate=2026-07-03&endDate=2026-07-01",
    "startDate=2026-07-01&endDate=2027-07-02",
    "startDate=2026-07-01&endDate=2027-07-03",
    "startDate=2026-02-30",
    "startDate=2026-07",
    "startDate=2026-07-01T00:00:00.000Z&endDate=2026-07-31T23:59:59.999Z&limit=50",
    "startDate=2026-07-01T00:00:00%2002:00",
    "startDate=not-a-date",
    "startDate=&endDate=",
    "startDate=2026-07-01&startDate=2026-07-02",
    "endDate=2026-07-01",
]
# A query each route's hit path serves (so the table below is not vacuous).
SERVED = {
    "leaderboard": "page=2&limit=5",
    "events": "startDate=2026-07-01",
    "experiences": "category=TOUR",
    "slots": "startDate=2026-07-01",
}
# Filters of the experiences list whose keys only the view builds (normalised prices,
# search text): the hit path leaves them to the view.
VIEW_ONLY_FILTERS = ("minPrice", "maxPrice", "date", "search")


def hit_path(path: str, query: str) -> tuple[int, bytes] | None:
    """What the layer in front of Django answers (status, body), or None when it hands
    the request on to Django."""
    handed_on = []

    def django(environ, start_response):
        handed_on.append(True)
        start_response("500 Internal Server Error", [])
        return [b""]

    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"] = int(status.split()[0])

    environ = wsgi_environ(path, query)
    body = b"".join(CachedReadApp(django)(environ, start_response))
    return None if handed_on else (seen["status"], body)


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES)
def test_the_hit_path_serves_what_the_view_stored_or_hands_the_request_on(
    api_client, redis_client, route
):
    path = ROUTES[route].format(id=ExperienceFactory().id)
    disagreements, served = [], set()
    for query in QUERIES:
        redis_client.flushdb()
        view = api_client.get(f"{path}?{query}")  # a miss: the view answers and stores
        hit = hit_path(path, query)
        if hit is not None:
            served.add(query)
            agree = view.status_code == 200 and hit == (200, view.content)
        else:
            params = QueryDict(query)
            left_to_view = route == "experiences" and any(map(params.get, VIEW_ONLY_FILTERS))
            agree = view.status_code != 200 or left_to_view
        if not agree:
            disagreements.append((query, view.status_code, hit and hit[0]))

    assert disagreements == []
    assert SERVED[route] in served
