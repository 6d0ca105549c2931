"""A per-process circuit breaker for Redis (docs/architecture.md#redis-failure).

After ``CACHE_BREAKER_FAILURES`` consecutive failed calls the breaker *opens*: for
``CACHE_BREAKER_RESET_SECONDS`` every cache call skips Redis without any network call (so a
dead or hung server costs nothing per request). Then one *probe* runs (half-open): a
success closes it, a failure re-opens it for another period. With a ``probe`` callable
(the CacheService gives one: a PING) the probe runs in a background thread while requests
keep skipping Redis, so no request ever waits out a hung server's timeout once the
breaker has opened; without one, the first caller after the reset time is the probe.

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

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        probe: Callable[[], bool] | None = None,
    ) -> None:
        self.state = CLOSED
        self.failures = 0
        #: calls refused without touching the network (tests and ``cache_stats``)
        self.skipped = 0
        self.clock = clock  # injectable: tests drive time by hand
        self.probe = probe  # True when Redis answered; run off the request path
        self._since = 0.0  # when it opened, or when the current probe started
        self._lock = threading.Lock()

    @staticmethod
    def _reset_seconds() -> float:
        return float(settings.CACHE_BREAKER_RESET_SECONDS)

    def allow(self) -> bool:
        """May this call talk to Redis? False while open (no network call at all).

        When the reset time has passed a probe starts: in a background thread when the
        breaker has a ``probe`` (this caller is refused too), else this caller is the
        probe; everyone is refused until the probe reports. A probe that never reports (its thread
        died) is replaced after another reset period, so the breaker cannot stick.
        """
        if self.state is CLOSED:
            return True
        with self._lock:
            if self.state is not CLOSED and self.clock() - self._since >= self._reset_seconds():
                self.state = HALF_OPEN
                self._since = self.clock()
                if self.probe is None:
                    return True  # this caller is the probe
                threading.Thread(target=self._run_probe, name="cache-probe", daemon=True).start()
            if self.state is CLOSED:
                return True
            self.skipped += 1
            return False

    def _run_probe(self) -> None:
        try:
            answered = self.probe()
        except Exception:  # a probe must never kill its thread silently
            logger.warning("cache: breaker probe raised", exc_info=True)
            answered = False
        if answered:
            self.success()
        else:
            self.failure()

    def success(self) -> None:
        """A call reached Redis and got an answer: close (the cheap path when closed)."""
        if self.failures == 0 and self.state is CLOSED:
            return
        with self._lock:
            reopened = self.state is not CLOSED
            self.state = CLOSED
            self.failures = 0
        if reopened:
            self.log_closed()

    def failure(self, error: BaseException | None = None) -> None:
        """A call failed (refused, timed out, broken connection): ``error``, if known."""
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
            self.log_opened(error)

    # One line per transition; a breaker of another Redis client says which it is.
    def log_opened(self, error: BaseException | None) -> None:
        logger.warning(
            "cache: Redis failing, circuit breaker open for %.1f s", self._reset_seconds()
        )

    def log_closed(self) -> None:
        logger.warning("cache: Redis is back, circuit breaker closed")

    def reset(self) -> None:
        """Back to closed with no history (tests, settings changes)."""
        with self._lock:
            self.state = CLOSED
            self.failures = 0
            self.skipped = 0
