"""Bookings under real concurrency (docs/architecture.md#bookings-concurrency).

Real threads against real PostgreSQL, released together by a Barrier; each thread closes
its own connection. transaction=True: the services' transactions really commit.
"""

import threading
import time
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Sum
from prometheus_client import REGISTRY

from experiences.models import SEAT_HOLDING_STATUSES, Booking, ExperienceTimeSlot
from experiences.services import _locking, booking_cancel, booking_create
from tests.factories import ExperienceFactory, TimeSlotFactory, UserFactory
from tests.helpers import book, client_for, fail_booking_attempts

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CONCURRENCY_BODY_KEYS = {"error", "message", "hint"}


def run_together(n: int, work) -> list:
    """Run ``work(i)`` in ``n`` threads released at once; results by index."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def target(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:  # surfaced by the assertions below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a booking thread hung"
    return results


def active_guests(slot) -> int:
    return (
        Booking.objects.filter(time_slot=slot, status__in=SEAT_HOLDING_STATUSES).aggregate(
            n=Sum("guest_count")
        )["n"]
        or 0
    )


def test_booking_last_ten_seats_under_50_threads_never_overbooks():
    """50 threads book the last 10 seats of a slot, 20 rounds: exactly 10 win each time."""
    threads, rounds, seats_left = 50, 20, 10
    users = UserFactory.create_batch(threads)
    early = UserFactory.create_batch(2)
    experience = ExperienceFactory(max_capacity=12)
    slots = []
    for _ in range(rounds):
        slot = TimeSlotFactory(experience=experience, capacity=12)
        for u in early:  # the first two seats are already sold, through the service
            booking_create(user=u, experience_id=experience.id, time_slot_id=slot.id)
        slot.refresh_from_db()
        slots.append(slot)

    # One long-lived worker per user (one connection each, closed at the end), all
    # released together every round by the barrier.
    barrier = threading.Barrier(threads)
    statuses: list[list[int]] = [[0] * threads for _ in range(rounds)]
    bodies: list[list[dict]] = [[{}] * threads for _ in range(rounds)]

    def worker(i: int) -> None:
        client = client_for(users[i])
        try:
            for r, slot in enumerate(slots):
                barrier.wait()
                response = book(client, slot)
                statuses[r][i] = response.status_code
                bodies[r][i] = response.json()
        finally:
            connection.close()

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=300)
    assert not any(w.is_alive() for w in workers)

    for r, slot in enumerate(slots):
        counts = Counter(statuses[r])
        assert counts[201] == seats_left, (r, counts)
        assert set(counts) <= {201, 400, 409}, (r, counts)
        for code, body in zip(statuses[r], bodies[r], strict=True):
            if code == 409:
                assert set(body) == CONCURRENCY_BODY_KEYS
            elif code == 400:
                assert body["message"] in {
                    "Solo hay 0 lugares disponibles",
                    "Este horario ya no está disponible",
                }
        before_version = slot.version
        slot.refresh_from_db()
        assert slot.booked_count == slot.capacity == active_guests(slot)
        assert slot.version == before_version + seats_left
        assert slot.is_available is False


def test_mixed_guest_counts_on_five_seats_never_overbook():
    guests = (3, 2, 1)
    users = UserFactory.create_batch(len(guests))
    experience = ExperienceFactory(max_capacity=5)
    for _ in range(10):
        slot = TimeSlotFactory(experience=experience, capacity=5)
        results = run_together(
            len(guests),
            lambda i, slot=slot: book(client_for(users[i]), slot, guests=guests[i]),
        )
        won = sum(g for g, r in zip(guests, results, strict=True) if r.status_code == 201)
        assert all(r.status_code in (201, 400, 409) for r in results)
        slot.refresh_from_db()
        assert slot.booked_count == won == active_guests(slot) <= 5
        # Seats go first come first served: every order sells at least 3 (2+1, then 3
        # does not fit) and never more than 5.
        assert won in (3, 4, 5)


def test_cancel_restores_seats_and_rebooking_same_slot_works():
    """F13: the partial unique index lets a user rebook a slot after cancelling."""
    guest = UserFactory()
    slot = TimeSlotFactory(capacity=2, experience=ExperienceFactory(max_capacity=2))
    first = booking_create(user=guest, experience_id=slot.experience_id, time_slot_id=slot.id)
    booking_cancel(user=guest, booking_id=first.id)
    slot.refresh_from_db()
    assert (slot.booked_count, slot.version, slot.is_available) == (0, 3, True)

    response = book(client_for(guest), slot, guests=2)
    assert response.status_code == 201
    slot.refresh_from_db()
    assert (slot.booked_count, slot.is_available) == (2, False)
    assert Booking.objects.filter(user=guest, time_slot=slot).count() == 2


def test_concurrent_cancels_of_one_booking_restore_seats_once():
    guest = UserFactory()
    slot = TimeSlotFactory(capacity=4, experience=ExperienceFactory(max_capacity=4))
    booking = booking_create(
        user=guest, experience_id=slot.experience_id, time_slot_id=slot.id, guest_count=3
    )
    client = client_for(guest)
    results = run_together(
        4, lambda i: client.post(f"/api/bookings/bookings/{booking.id}/cancel", {}, format="json")
    )
    assert sorted(r.status_code for r in results) == [200, 400, 400, 400]
    slot.refresh_from_db()
    assert slot.booked_count == 0 == active_guests(slot)


def conflicts_counted() -> float:
    return (
        REGISTRY.get_sample_value(
            "guelaguetza_concurrency_conflicts_total", {"resource_type": "time_slot"}
        )
        or 0.0
    )


def test_serialization_failure_twice_succeeds_on_third_attempt_after_backoff(monkeypatch):
    guest = UserFactory()
    slot = TimeSlotFactory()
    fail_booking_attempts(monkeypatch, {0, 1})
    conflicts = conflicts_counted()

    started = time.monotonic()
    response = book(client_for(guest), slot)
    elapsed = time.monotonic() - started

    assert response.status_code == 201
    # 100 ms then 200 ms of backoff is part of the contract (docs/api.md#booking-rules),
    # not a benchmark.
    assert elapsed >= 0.3
    assert conflicts_counted() == conflicts + 2
    slot.refresh_from_db()
    assert (slot.booked_count, slot.version) == (1, 2)


def test_serialization_failure_on_every_attempt_gives_409_concurrency_body(monkeypatch):
    guest = UserFactory()
    slot = TimeSlotFactory()
    fail_booking_attempts(monkeypatch, {0, 1, 2})

    response = book(client_for(guest), slot)

    assert response.status_code == 409
    assert response.json() == {
        "error": "ConcurrencyError",
        "message": "El horario ha sido modificado por otro usuario. Por favor, recarga e "
        "intenta nuevamente.",
        "hint": "El horario ha sido actualizado. Por favor, recarga los datos e intenta "
        "nuevamente.",
    }
    slot.refresh_from_db()
    assert (slot.booked_count, slot.version) == (0, 1)
    assert not Booking.objects.exists()


def test_slot_row_locked_by_another_connection_gets_409_not_a_hang(settings):
    settings.BOOKING_LOCK_TIMEOUT_MS = 300
    guest = UserFactory()
    slot = TimeSlotFactory()
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        from django.db import transaction

        try:
            with transaction.atomic():
                ExperienceTimeSlot.objects.select_for_update().get(pk=slot.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        result = run_together(1, lambda i: book(client_for(guest), slot))[0]
    finally:
        release.set()
        holder.join(timeout=30)

    assert result.status_code in (409, 503)
    assert result.json()["error"] == "ConcurrencyError"
    slot.refresh_from_db()
    assert slot.booked_count == 0
    # Once the row is free again the same request succeeds.
    assert book(client_for(guest), slot).status_code == 201


def test_idempotency_key_under_10_concurrent_requests_creates_one_booking():
    guest = UserFactory()
    slot = TimeSlotFactory()
    client = client_for(guest)
    results = run_together(10, lambda i: book(client, slot, HTTP_IDEMPOTENCY_KEY="pay-123"))

    assert [r.status_code for r in results] == [201] * 10
    assert len({r.json()["booking"]["id"] for r in results}) == 1
    assert Booking.objects.filter(user=guest).count() == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in results) == 9
    slot.refresh_from_db()
    assert slot.booked_count == 1


@pytest.mark.django_db
def test_conditional_update_with_a_stale_version_matches_no_row():
    from experiences.services.bookings import _take_seats

    slot = TimeSlotFactory(capacity=3)
    stale = ExperienceTimeSlot.objects.get(pk=slot.pk)
    ExperienceTimeSlot.objects.filter(pk=slot.pk).update(version=5)
    with pytest.raises(_locking.VersionConflict):
        _take_seats(stale, 1)
    fresh = ExperienceTimeSlot.objects.get(pk=slot.pk)
    with pytest.raises(_locking.VersionConflict):  # capacity is part of the condition too
        _take_seats(fresh, 4)
    _take_seats(fresh, 3)
    fresh.refresh_from_db()
    assert (fresh.booked_count, fresh.version, fresh.is_available) == (3, 6, False)


@pytest.mark.django_db
def test_version_conflicts_are_retried_then_answered_with_409():
    from guelaguetza.api.errors import api_error_for
    from guelaguetza.errors import ConcurrentUpdate

    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _locking.VersionConflict
        return "ok"

    assert _locking.with_retries(flaky, hint="h") == "ok" and len(calls) == 3

    def always() -> None:
        calls.append(1)
        raise _locking.VersionConflict

    calls.clear()
    with pytest.raises(ConcurrentUpdate) as caught:
        _locking.with_retries(always, hint="h")
    assert len(calls) == 3
    answer = api_error_for(caught.value)
    assert answer.status_code == 409
    assert answer.to_body()["error"] == "ConcurrencyError"
