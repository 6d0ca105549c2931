"""The circuit breaker's state machine, on a fake clock."""

from guelaguetza.cache.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def opened(settings) -> tuple[CircuitBreaker, Clock]:
    settings.CACHE_BREAKER_FAILURES = 3
    settings.CACHE_BREAKER_RESET_SECONDS = 5
    clock = Clock()
    breaker = CircuitBreaker(clock=clock)
    for _ in range(3):
        assert breaker.allow()
        breaker.failure()
    return breaker, clock


def test_consecutive_failures_open_it_and_a_success_in_between_resets_the_count(settings):
    settings.CACHE_BREAKER_FAILURES = 3
    breaker = CircuitBreaker()
    breaker.failure()
    breaker.failure()
    breaker.success()
    breaker.failure()
    breaker.failure()
    assert breaker.state == CLOSED
    breaker.failure()
    assert breaker.state == OPEN


def test_open_refuses_until_the_reset_time_then_lets_one_probe_through(settings):
    breaker, clock = opened(settings)
    clock.now += 4.9
    assert not breaker.allow()
    clock.now += 0.2
    assert breaker.allow()  # the probe
    assert breaker.state == HALF_OPEN
    assert not breaker.allow()  # everyone else waits for the probe's outcome
    assert breaker.skipped == 2


def test_a_successful_probe_closes_it(settings):
    breaker, clock = opened(settings)
    clock.now += 5
    assert breaker.allow()
    breaker.success()
    assert breaker.state == CLOSED
    assert breaker.allow() and breaker.allow()


def test_a_failed_probe_reopens_it_for_a_full_period(settings):
    breaker, clock = opened(settings)
    clock.now += 5
    assert breaker.allow()
    breaker.failure()
    assert breaker.state == OPEN
    clock.now += 4.9
    assert not breaker.allow()


def test_a_probe_that_never_reports_is_replaced_after_a_period(settings):
    breaker, clock = opened(settings)
    clock.now += 5
    assert breaker.allow()  # this probe's thread dies silently
    clock.now += 5
    assert breaker.allow()
