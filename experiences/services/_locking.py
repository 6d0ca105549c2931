"""One transaction per attempt, bounded lock waits, retries.

Why: docs/architecture.md#bookings-concurrency.

A slot write is retried in a fresh transaction on a version conflict, a serialization
failure (40001) or a deadlock (40P01): 3 attempts in all, 100 ms then 200 ms apart, then
409 ConcurrencyError. ``lock_timeout`` bounds every lock wait, so a request never hangs
behind a held row: a timeout (55P03) answers 409 at once, since waiting longer would only
lengthen the queue.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import OperationalError, connection, transaction

from experiences.errors import concurrency_error
from guelaguetza.observability import metrics

T = TypeVar("T")

RETRY_DELAYS = (0.1, 0.2)  # seconds before attempts 2 and 3
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
LOCK_NOT_AVAILABLE = "55P03"


class VersionConflict(Exception):
    """The conditional UPDATE matched no row: someone else changed the slot first."""


def set_lock_timeout() -> None:
    ms = int(settings.BOOKING_LOCK_TIMEOUT_MS)  # an int: safe to inline in SET LOCAL
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{ms}ms'")


def sqlstate(exc: BaseException) -> str | None:
    return getattr(exc.__cause__, "sqlstate", None)


def with_retries(attempt: Callable[[], T], *, hint: str) -> T:
    """Run ``attempt`` in its own transaction (a savepoint inside an outer one), retrying
    conflicts; domain errors and others propagate after the rollback."""
    for number in range(len(RETRY_DELAYS) + 1):
        try:
            with transaction.atomic():
                set_lock_timeout()
                return attempt()
        except VersionConflict:
            pass
        except OperationalError as exc:
            state = sqlstate(exc)
            if state == LOCK_NOT_AVAILABLE:
                metrics.concurrency_conflicts_total.labels(resource_type="time_slot").inc()
                raise concurrency_error(hint) from exc
            if state not in RETRYABLE_SQLSTATES:
                raise
        metrics.concurrency_conflicts_total.labels(resource_type="time_slot").inc()
        if number < len(RETRY_DELAYS):
            time.sleep(RETRY_DELAYS[number])
    raise concurrency_error(hint)
