"""A PostgreSQL connection dropped mid-request (issue 15, deliverable 5): retried once
on a fresh connection when nothing the request wrote has committed, else a JSON 503
with Retry-After; never a 500.

Real PostgreSQL: the test's own backend is ended with pg_terminate_backend from a
second connection, at a chosen statement (an execute_wrapper around the view's).
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from events.models import EventRSVP
from experiences.models import Booking
from guelaguetza import urls as project_urls
from guelaguetza.api.views import ApiViewMixin
from tests.factories import EventFactory, TimeSlotFactory, UserFactory
from tests.helpers import client_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls(__name__)]
UNAVAILABLE = "Servicio no disponible temporalmente. Intenta de nuevo en unos segundos."


def _terminate(pid: int) -> None:
    cfg = connection.settings_dict
    params = {"host": cfg["HOST"], "port": cfg["PORT"], "user": cfg["USER"], "dbname": "postgres"}
    if cfg.get("PASSWORD"):
        params["password"] = cfg["PASSWORD"]
    with psycopg.connect(**params, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        deadline = time.monotonic() + 5
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            assert time.monotonic() < deadline, "backend still alive"
            time.sleep(0.01)


@contextmanager
def terminate_backend(match: str, *, after: bool = False, times: int = 1, autocommit=False):
    """End this connection's backend at the first ``times`` statements containing
    ``match`` (with ``autocommit``: only outside any transaction): before the statement
    runs (it fails), or ``after`` it succeeded (the next use of the connection fails,
    e.g. the COMMIT)."""
    pids: list[int] = []

    def hook(execute, sql, params, many, context):
        hit = match in sql and len(pids) < times
        hit = hit and not (autocommit and connection.in_atomic_block)
        if hit and not after:
            pids.append(connection.connection.info.backend_pid)
            _terminate(pids[-1])
        result = execute(sql, params, many, context)
        if hit and after:
            pids.append(connection.connection.info.backend_pid)
            _terminate(pids[-1])
        return result

    with connection.execute_wrapper(hook):
        yield pids


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    assert response.json() == {"success": False, "error": UNAVAILABLE, "message": UNAVAILABLE}


# Views whose writes commit before the connection drops (none of the app's endpoints
# runs a statement of its own after its last commit), and a plain view under /api.
class CommitThenRead(ApiViewMixin, APIView):
    def post(self, request):
        with transaction.atomic():
            EventRSVP.objects.create(user=request.user, event_id=request.data["eventId"])
        return Response({"rsvps": EventRSVP.objects.count()})


class AutocommitThenRead(ApiViewMixin, APIView):
    def post(self, request):
        EventRSVP.objects.create(user=request.user, event_id=request.data["eventId"])
        return Response({"rsvps": EventRSVP.objects.count()})


class ReadOutsideTheBase(APIView):  # no ApiViewMixin: DRF's exception handler answers
    def get(self, request):
        return Response({"rsvps": EventRSVP.objects.count()})


def plain_read(request):
    from django.http import JsonResponse

    return JsonResponse({"rsvps": EventRSVP.objects.count()})


urlpatterns = [
    path("api/test/commit-then-read", CommitThenRead.as_view()),
    path("api/test/autocommit-then-read", AutocommitThenRead.as_view()),
    path("api/test/outside-the-base", ReadOutsideTheBase.as_view()),
    path("api/test/plain", plain_read),
    *project_urls.urlpatterns,
]


def test_a_read_is_retried_once_on_a_fresh_connection(api_client, caplog):
    slot = TimeSlotFactory()
    url = f"/api/bookings/experiences/{slot.experience_id}"
    before = backend_pid()
    with terminate_backend('FROM "experiences_experience"') as killed:
        response = api_client.get(url)
    assert killed == [before]
    assert response.status_code == 200, response.content
    assert response.json()["id"] == slot.experience_id
    assert backend_pid() != before
    assert "retrying on a new connection" in caplog.text


def test_a_write_whose_transaction_died_is_retried_and_applied_once(slot_for_booking):
    slot, client = slot_for_booking
    with terminate_backend('INSERT INTO "experiences_booking"') as killed:
        response = book(client, slot)
    assert len(killed) == 1
    assert response.status_code == 201, response.content
    slot.refresh_from_db()
    assert (Booking.objects.count(), slot.booked_count) == (1, 1)


def test_an_rsvp_lost_at_its_insert_is_retried(user):
    event = EventFactory()
    with terminate_backend('INSERT INTO "events_eventrsvp"') as killed:
        response = client_for(user).post(f"/api/events/{event.pk}/rsvp")
    assert len(killed) == 1
    assert response.status_code in (200, 201), response.content
    assert EventRSVP.objects.filter(user=user, event=event).count() == 1


def test_a_connection_lost_at_commit_is_503_and_not_retried(slot_for_booking):
    # The backend dies right after the INSERT: the COMMIT fails and nobody can tell from
    # the client side whether it went through, so the request is not run again.
    slot, client = slot_for_booking
    with terminate_backend('INSERT INTO "experiences_booking"', after=True) as killed:
        response = book(client, slot)
    assert len(killed) == 1
    assert_unavailable(response)
    slot.refresh_from_db()  # here the server never got the COMMIT: nothing was written
    assert (Booking.objects.count(), slot.booked_count) == (0, 0)
    assert book(client, slot).status_code == 201  # the client's retry, as Retry-After says


def test_a_write_that_committed_before_the_drop_is_503_and_not_repeated(user):
    event = EventFactory()
    with terminate_backend("SELECT COUNT(*)") as killed:
        response = client_for(user).post(
            "/api/test/commit-then-read", {"eventId": event.pk}, format="json"
        )
    assert len(killed) == 1
    assert_unavailable(response)
    assert EventRSVP.objects.count() == 1  # once, not twice


def test_an_autocommit_write_then_a_drop_is_503_and_not_repeated(user):
    event = EventFactory()
    with terminate_backend("SELECT COUNT(*)") as killed:
        response = client_for(user).post(
            "/api/test/autocommit-then-read", {"eventId": event.pk}, format="json"
        )
    assert len(killed) == 1
    assert_unavailable(response)
    assert EventRSVP.objects.count() == 1


def test_a_drop_on_the_retry_too_is_503(api_client):
    slot = TimeSlotFactory()
    with terminate_backend('FROM "experiences_experience"', times=2) as killed:
        response = api_client.get(f"/api/bookings/experiences/{slot.experience_id}")
    assert len(killed) == 2
    assert_unavailable(response)
    assert api_client.get(f"/api/bookings/experiences/{slot.experience_id}").status_code == 200


def test_a_drop_in_a_drf_view_outside_the_base_is_503_not_500(api_client):
    with terminate_backend("SELECT COUNT(*)"):
        response = api_client.get("/api/test/outside-the-base")
    assert_unavailable(response)
    assert api_client.get("/api/test/outside-the-base").json() == {"rsvps": 0}


def test_a_drop_in_a_plain_api_view_is_503_not_500(api_client):
    with terminate_backend("SELECT COUNT(*)"):
        response = api_client.get("/api/test/plain")
    assert_unavailable(response)
    assert api_client.get("/api/test/plain").json() == {"rsvps": 0}


def test_errors_on_a_live_connection_are_not_retried(slot_for_booking):
    # A refused statement (here: a duplicate booking's unique index) is no lost
    # connection: answered as before, the request runs once.
    slot, client = slot_for_booking
    assert book(client, slot).status_code == 201
    assert book(client, slot).status_code == 409
    slot.refresh_from_db()
    assert slot.booked_count == 1


@pytest.fixture
def slot_for_booking(user):
    return TimeSlotFactory(capacity=5), client_for(user)


def book(client, slot):
    return client.post(
        "/api/bookings/bookings",
        {"experienceId": slot.experience_id, "timeSlotId": slot.id, "guestCount": 1},
        format="json",
    )


def test_lost_connections_are_told_apart_from_errors_of_a_live_server(user):
    import socket

    from django.db import IntegrityError, OperationalError, connections

    from guelaguetza.api.dbretry import connection_lost

    def raised(run) -> BaseException:
        try:
            with transaction.atomic():
                run()
        except Exception as exc:
            return exc
        raise AssertionError("nothing raised")

    def sql(statement: str):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(statement)

        return run

    # Refused by a live server: answered as before (409, 4xx, ...), never retried.
    timeout = raised(sql("SET LOCAL statement_timeout = 10; SELECT pg_sleep(1)"))
    assert isinstance(timeout, OperationalError) and not connection_lost(timeout)
    dup = raised(lambda: UserFactory(email=user.email))
    assert isinstance(dup, IntegrityError) and not connection_lost(dup)

    # Lost: the backend ended under a statement, or no server to connect to.
    with terminate_backend("pg_backend_pid"):
        ended = raised(backend_pid)
    assert connection_lost(ended)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    other = connections.create_connection("default")
    other.settings_dict = {**other.settings_dict, "PORT": closed_port}
    with pytest.raises(OperationalError) as refused:
        other.ensure_connection()
    assert connection_lost(refused.value)


BADGE_READ = 'FROM "gamification_userbadge"'  # the badge evaluation after the commit


def test_a_check_in_that_committed_xp_then_lost_the_connection_is_503_and_counted_once(user):
    from gamification.models import UserStats

    client = client_for(user)
    with terminate_backend(BADGE_READ, autocommit=True) as killed:
        response = client.post("/api/gamification/me/check-in")
    assert len(killed) == 1
    assert_unavailable(response)
    stats = UserStats.objects.get(user=user)
    assert (stats.xp, stats.current_streak) == (10, 1)  # once, not twice


def test_a_check_in_that_changed_nothing_is_retried(user):
    from gamification.models import UserStats

    client = client_for(user)
    assert client.post("/api/gamification/me/check-in").json()["data"]["isNewDay"] is True
    with terminate_backend(BADGE_READ, autocommit=True) as killed:
        response = client.post("/api/gamification/me/check-in")  # same day: no row moves
    assert len(killed) == 1
    assert response.status_code == 200, response.content
    assert response.json()["data"]["isNewDay"] is False
    assert UserStats.objects.get(user=user).xp == 10


@pytest.fixture
def health_checks(monkeypatch):
    """CONN_HEALTH_CHECKS on for this connection (as in production), each check
    recorded. A test calls ``new_request()`` before its request: ``request_started``
    resets the check's state, but the test client disconnects that signal."""
    checks: list[bool] = []
    conn = connections[DEFAULT_DB_ALIAS]
    is_usable = conn.is_usable

    def recorded():
        checks.append(True)
        return is_usable()

    monkeypatch.setattr(conn, "health_check_enabled", True)
    monkeypatch.setattr(conn, "is_usable", recorded)
    return checks


def new_request(checks: list[bool]) -> None:
    connections[DEFAULT_DB_ALIAS].health_check_done = False
    checks.clear()


def test_api_views_skip_the_health_check_and_retry_a_connection_that_died_idle(
    api_client, health_checks, caplog
):
    slot = TimeSlotFactory()
    before = backend_pid()
    _terminate(before)  # between two requests, while the kept connection is idle
    new_request(health_checks)
    response = api_client.get(f"/api/bookings/experiences/{slot.experience_id}")
    assert response.status_code == 200, response.content
    assert health_checks == []  # no SELECT 1: the first statement failed, and was retried
    assert "retrying on a new connection" in caplog.text
    assert backend_pid() != before


def test_views_outside_the_api_wrapper_keep_the_health_check(api_client, health_checks):
    before = backend_pid()
    _terminate(before)
    new_request(health_checks)
    response = api_client.get("/api/test/plain")
    assert response.status_code == 200, response.content
    assert health_checks == [True]  # the check found the connection dead and replaced it
    assert backend_pid() != before
