"""The one request-metrics middleware: guelaguetza_http_requests_total and
guelaguetza_http_request_duration_seconds (docs/api.md#get-metrics), by route template,
method and status.

It is the outermost middleware, so its latency covers the whole Django stack. It replaces
django-prometheus's Before/After pair and the former HttpMetricsMiddleware, which
measured the same requests three times (README.md#operations, metrics).
"""

from __future__ import annotations

import functools
import re
import time

from guelaguetza.observability import metrics

_GROUP = re.compile(r"\(\?P<\w+>[^)]*\)|<(?:\w+:)?\w+>")
UNMATCHED = "unmatched"
# The method label takes these values only: a client may send any token as the method,
# and every new value would be a new time series.
METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)
INVALID_METHOD = "<invalid method>"


def method_label(method: str) -> str:
    return method if method in METHODS else INVALID_METHOD


def route_label(request) -> str:
    """The URL pattern that served the request, ids as ``:id``:
    ``/api/bookings/experiences/:id/slots``. Unknown paths share one label so a scan
    of random URLs cannot blow up the metric's cardinality."""
    # A hit answered before URL resolution (the hit-path layer in front of the resolver)
    # names its route template itself.
    served = getattr(request, "gc_route", None)
    if served is not None:
        return served
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route or match.url_name == "api-not-found":
        return UNMATCHED
    return _label(match.route)


@functools.cache
def _label(route: str) -> str:
    # Once per URL pattern (a fixed set) rather than a regex substitution per request.
    return "/" + _GROUP.sub(":id", route.replace("^", "").replace("$", "")).lstrip("/")


class RequestMetricsMiddleware:
    """Counts and times every request once, outermost in settings.MIDDLEWARE."""

    def __init__(self, get_response):
        self.get_response = get_response
        # Label children by label values: ``.labels()`` validates and locks on every
        # call; the label sets are bounded (routes x methods x statuses), so keep them.
        self._timers: dict[tuple[str, str], object] = {}
        self._counters: dict[tuple[str, str, int], object] = {}

    def __call__(self, request):
        start = time.perf_counter()
        response = self.get_response(request)
        self.record(route_label(request), request.method, response.status_code, start)
        return response

    def record(self, route: str, method: str, status: int, start: float) -> None:
        """Count and time one request that started at ``start`` (perf_counter); the
        hit path in front of Django records its hits here too."""
        elapsed = time.perf_counter() - start
        method = method_label(method)
        key = (method, route)
        timer = self._timers.get(key)
        if timer is None:
            timer = self._timers[key] = metrics.http_request_duration_seconds.labels(*key)
        timer.observe(elapsed)
        counted = (method, route, status)
        counter = self._counters.get(counted)
        if counter is None:
            counter = self._counters[counted] = metrics.http_requests_total.labels(
                method, route, str(status)
            )
        counter.inc()
