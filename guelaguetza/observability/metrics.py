"""The original app's ``guelaguetza_*`` metrics (docs/api.md#get-metrics), defined once.

prometheus_client objects are multiprocess-safe when PROMETHEUS_MULTIPROC_DIR is set
before import (scripts/start.sh sets it for the server's workers). The database gauges
are not here: they are computed at scrape time by the /metrics view's collector.
"""

from prometheus_client import Counter, Histogram

http_requests_total = Counter(
    "guelaguetza_http_requests_total",
    "HTTP requests by method, route (ids as :id) and status code.",
    ["method", "route", "status_code"],
)
http_request_duration_seconds = Histogram(
    "guelaguetza_http_request_duration_seconds",
    "HTTP request duration by method and route.",
    ["method", "route"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5),
)
bookings_created_total = Counter(
    "guelaguetza_bookings_created_total",
    "Booking attempts by outcome: pending (created), conflict, failed.",
    ["status"],
)
bookings_cancelled_total = Counter("guelaguetza_bookings_cancelled_total", "Bookings cancelled.")
booking_creation_duration_seconds = Histogram(
    "guelaguetza_booking_creation_duration_seconds",
    "Time to create a booking, retries included.",
    buckets=(0.1, 0.5, 1, 2, 5),
)
concurrency_conflicts_total = Counter(
    "guelaguetza_concurrency_conflicts_total",
    "Optimistic-lock conflicts (each retried attempt counts).",
    ["resource_type"],
)
