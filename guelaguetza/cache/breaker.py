"""A per-process circuit breaker for Redis (DESIGN.md, "When Redis is slow or down").

After ``CACHE_BREAKER_FAILURES`` consecutive failed calls the breaker *opens*: for
``CACHE_BREAKER_RESET_SECONDS`` every cache call skips Redis without any network call (so a
dead or hung server costs nothing per request). Then it lets exactly one *probe* call
through (half-open): a success closes it, a failure re-opens it for another period.

The hot path (closed breaker, healthy Redis) is a single attribute read in :meth:`allow`
and a single comparison in :meth:`success`: no lock, no clock. Thresholds are settings,
read when they matter (on a failure or a transition), so tests can shorten them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings

logger = logging.getLogger(__name__)

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


class CircuitBreaker:
    """Consecutive-failure breaker; thread-safe, one per CacheService (per process)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.state = CLOSED
        self.failures = 0
        #: calls refused without touching the network (tests and ``cache_stats``)
        self.skipped = 0
        self.clock = clock  # injectable: tests drive time by hand
        self._since = 0.0  # when it opened, or when the current probe started
        self._lock = threading.Lock()

    @staticmethod
    def _reset_seconds() -> float:
        return float(settings.CACHE_BREAKER_RESET_SECONDS)

    def allow(self) -> bool:
        """May this call talk to Redis? False while open (no network call at all).

        When the reset time has passed, the first caller becomes the probe; others keep
        being refused until the probe reports. A probe that never reports (its thread
        died) is replaced after another reset period, so the breaker cannot stick.
        """
        if self.state is CLOSED:
            return True
        with self._lock:
            if self.state is not CLOSED and self.clock() - self._since >= self._reset_seconds():
                self.state = HALF_OPEN
                self._since = self.clock()
                return True
            if self.state is CLOSED:
                return True
            self.skipped += 1
            return False

    def success(self) -> None:
        """A call reached Redis and got an answer: close (the cheap path when closed)."""
        if self.failures == 0 and self.state is CLOSED:
            return
        with self._lock:
            reopened = self.state is not CLOSED
            self.state = CLOSED
            self.failures = 0
        if reopened:
            logger.warning("cache: Redis is back, circuit breaker closed")

    def failure(self) -> None:
        """A call failed (refused, timed out, broken connection)."""
        with self._lock:
            self.failures += 1
            if self.state is HALF_OPEN or (
                self.state is CLOSED and self.failures >= int(settings.CACHE_BREAKER_FAILURES)
            ):
                self.state = OPEN
                self._since = self.clock()
                opened = True
            else:
                opened = False
        if opened:
            logger.warning(
                "cache: Redis failing, circuit breaker open for %.1f s", self._reset_seconds()
            )

    def reset(self) -> None:
        """Back to closed with no history (tests, settings changes)."""
        with self._lock:
            self.state = CLOSED
            self.failures = 0
            self.skipped = 0
