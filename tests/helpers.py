"""Helpers shared by the tests: signed-in clients, the response envelopes, bookings.

Plain functions and classes, imported by the tests that use them; the conftest modules
hold fixtures only.
"""

from __future__ import annotations

import datetime as dt
import io
import sys

from django.db import connection
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

# The festival month the event tests place their events in.
JULY = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)


def client_for(user) -> APIClient:
    """A client signed in as ``user`` (authentication itself is tested in tests/accounts)."""
    client = APIClient()
    client.force_authenticate(user=user)
    return client


# -- response envelopes (docs: the contract's envelopes), shared by the contract tests --
def data_of(response):
    """``data`` of a 200 ``{success: true, data}`` body (exactly those two keys)."""
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"success", "data"} and body["success"] is True
    return body["data"]


def assert_error(response, status: int, message: str | None = None) -> dict:
    """An error body: ``{success: false, error, message[, details]}``, error == message."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) - {"details"} == {"success", "error", "message"}
    assert body["success"] is False and body["error"] == body["message"]
    if message is not None:
        assert body["message"] == message
    return body


# -- bookings ----------------------------------------------------------------------------
def book(client: APIClient, slot, *, guests: int = 1, **extra):
    return client.post(
        "/api/bookings/bookings",
        {"experienceId": slot.experience_id, "timeSlotId": slot.id, "guestCount": guests},
        format="json",
        **extra,
    )


def fail_booking_attempts(monkeypatch, attempts: set[int]) -> None:
    """Make the numbered attempts (0, 1, 2) of each slot write fail with a real
    PostgreSQL serialization failure (SQLSTATE 40001), not a Python mock.

    ``with_retries`` sets the lock timeout at the start of every attempt, inside the
    attempt's transaction: the error is raised right after it, where a conflicting
    transaction's would surface. Attempts are counted from the patch on, so a test makes
    one slot write after it.
    """
    from experiences.services import _locking

    set_lock_timeout = _locking.set_lock_timeout
    count = {"attempt": 0}

    def failing_set_lock_timeout() -> None:
        set_lock_timeout()
        number = count["attempt"]
        count["attempt"] += 1
        if number in attempts:
            with connection.cursor() as cursor:
                cursor.execute(
                    "DO $$ BEGIN RAISE EXCEPTION 'injected serialization failure' "
                    "USING ERRCODE = '40001'; END $$"
                )

    monkeypatch.setattr(_locking, "set_lock_timeout", failing_set_lock_timeout)


class FakeClock:
    """A monotonic clock that only moves when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Metric:
    """The sum of the default registry's samples of ``name`` whose labels include
    ``labels`` (``service="events"`` sums that service's families); ``delta()`` since
    the fixture started."""

    def __init__(self, name: str, **labels: str) -> None:
        self.name, self.labels = name, labels
        self.start = self.value()

    def value(self) -> float:
        return sum(
            sample.value
            for family in REGISTRY.collect()
            for sample in family.samples
            if sample.name == self.name
            and all(sample.labels.get(k) == v for k, v in self.labels.items())
        )

    def delta(self) -> float:
        return self.value() - self.start


def wsgi_environ(path: str, query: str = "", **headers) -> dict:
    """A GET's WSGI environ, as a server hands it to the application (headers as
    ``HTTP_*`` keys), for tests that call a WSGI callable directly."""
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        **headers,
    }
