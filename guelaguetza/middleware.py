"""Project middleware: the guelaguetza_http_* metrics and JSON errors outside DRF."""

from __future__ import annotations

import functools
import logging
import re
import time

from django.http import JsonResponse
from django_prometheus import middleware as prometheus

from guelaguetza import metrics
from guelaguetza.api.errors import INTERNAL_ERROR, error_body

logger = logging.getLogger(__name__)

_GROUP = re.compile(r"\(\?P<\w+>[^)]*\)|<(?:\w+:)?\w+>")
UNMATCHED = "unmatched"
# The method label takes these values only: a client may send any token as the method,
# and every new value would be a new time series (the values django-prometheus keeps).
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
    served = getattr(request, "gc_route", None)  # a hit of guelaguetza.api.cached
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


class HttpMetricsMiddleware:
    """Fills guelaguetza_http_requests_total and _duration_seconds (API.md 8)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        start = time.perf_counter()
        response = self.get_response(request)
        route = route_label(request)
        method = method_label(request.method)
        metrics.http_request_duration_seconds.labels(method, route).observe(
            time.perf_counter() - start
        )
        metrics.http_requests_total.labels(method, route, str(response.status_code)).inc()
        return response


class PrometheusAfterMiddleware(prometheus.PrometheusAfterMiddleware):
    """django-prometheus's, with its one unbounded label bounded: its latency-by-view
    histogram takes request.method verbatim where its other metrics bound it."""

    def label_metric(self, metric, request, response=None, **labels):
        if "method" in labels:
            labels["method"] = method_label(labels["method"])
        return super().label_metric(metric, request, response, **labels)


class ApiExceptionMiddleware:
    """An exception escaping a non-DRF view under /api becomes the JSON 500 of API.md
    1.4 even with DEBUG on (DRF views already go through the exception handler)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not request.path.startswith("/api"):
            return None
        from guelaguetza.api import dbretry

        if dbretry.connection_lost(exception):  # PostgreSQL went away: 503, not 500
            logger.warning("database connection lost on %s", request.path)
            dbretry.drop_connection()
            return dbretry.unavailable()
        logger.exception("Unhandled error on %s", request.path)
        return JsonResponse(error_body(INTERNAL_ERROR), status=500)
