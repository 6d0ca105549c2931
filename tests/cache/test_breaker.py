"""The circuit breaker's state machine, on a fake clock."""

import threading

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


def _background(settings, answer):
    """An opened breaker whose probe runs in its own thread and waits to be released."""
    release, done = threading.Event(), threading.Event()

    def probe() -> bool:
        release.wait(5)
        done.set()
        return answer()

    breaker, clock = opened(settings)
    breaker.probe = probe
    clock.now += 5
    return breaker, release, done


def test_a_background_probe_keeps_requests_off_redis_until_it_answers(settings):
    breaker, release, done = _background(settings, lambda: True)
    assert not breaker.allow()  # starts the probe; this request skips Redis
    assert breaker.state == HALF_OPEN
    assert not breaker.allow()  # the probe is still waiting on Redis
    release.set()
    assert done.wait(5)
    for _ in range(100):  # the probe thread reports right after `done`
        if breaker.state == CLOSED:
            break
        threading.Event().wait(0.01)
    assert breaker.state == CLOSED and breaker.allow()


def test_a_failed_background_probe_reopens_for_a_full_period(settings):
    breaker, release, done = _background(settings, lambda: 1 / 0)  # a raising probe
    assert not breaker.allow()
    release.set()
    assert done.wait(5)
    for _ in range(100):
        if breaker.state == OPEN:
            break
        threading.Event().wait(0.01)
    assert breaker.state == OPEN and not breaker.allow()
