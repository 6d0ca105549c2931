"""/metrics (docs/api.md#get-metrics): everything registered, plus DB gauges computed per scrape.

Single process: the default registry (django-prometheus, guelaguetza_*, cache_*).
Under the application server, scripts/start.sh sets PROMETHEUS_MULTIPROC_DIR and every
worker writes its samples there; the view then aggregates all workers with
MultiProcessCollector, so one scrape shows the whole server whichever worker answers it.

A worker that died (a crash, a graceful restart on SIGHUP) must not keep its live
gauges in the aggregate. gunicorn had a child_exit hook for that; granian has none, so
each scrape first marks the workers whose process is gone as dead
(``forget_dead_workers``), which is what that hook did, at the moment it matters.
"""

from __future__ import annotations

import functools
import hmac
import logging
import os
import re
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Q
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.gc_collector import GCCollector
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.platform_collector import PlatformCollector

from guelaguetza.api.errors import error_body

logger = logging.getLogger(__name__)

# docs/api.md#get-metrics fixes the classic text format's content type.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Booking statuses behind the original's two booking gauges.
ACTIVE = ("PENDING", "CONFIRMED")
AWAITING_PAYMENT = ("PENDING_PAYMENT", "PENDING")


def _model(label: str):
    try:
        return apps.get_model(label)
    except LookupError:
        return None  # that app's models are not there yet: skip its gauges


class DatabaseGaugesCollector:
    """The original app's DB gauges, counted at scrape time (never stale)."""

    def collect(self):
        gauges = []
        for name, doc, labels, count in self._gauges():
            try:
                value = count()
            except DatabaseError:
                # Database down: one connect timeout per scrape, not one per gauge.
                logger.warning("metrics: DB gauges skipped from %s on", name, exc_info=True)
                break
            family = GaugeMetricFamily(name, doc, labels=list(labels))
            family.add_metric(list(labels.values()), value)
            gauges.append(family)
        return gauges

    def describe(self):
        return []  # computed lazily; do not run queries at registration

    def _gauges(self):
        user = _model(settings.AUTH_USER_MODEL)
        yield (
            "guelaguetza_total_users_count",
            "Registered users.",
            {},
            lambda: user.objects.count(),
        )
        booking = _model("experiences.Booking")
        if booking is not None:
            # Both booking gauges from one query (run once per scrape, when first needed).
            counts = functools.cache(
                lambda: booking.objects.filter(status__in=[*ACTIVE, *AWAITING_PAYMENT]).aggregate(
                    active=Count("pk", filter=Q(status__in=ACTIVE)),
                    awaiting=Count("pk", filter=Q(status__in=AWAITING_PAYMENT)),
                )
            )
            yield (
                "guelaguetza_active_bookings_count",
                "Bookings PENDING or CONFIRMED.",
                {},
                lambda: counts()["active"],
            )
            yield (
                "guelaguetza_pending_payments_count",
                "Bookings awaiting payment (PENDING_PAYMENT or PENDING).",
                {"type": "booking"},
                lambda: counts()["awaiting"],
            )
        experience = _model("experiences.Experience")
        if experience is not None:
            yield (
                "guelaguetza_active_experiences_count",
                "Active experiences.",
                {},
                lambda: experience.objects.filter(is_active=True).count(),
            )
        slot = _model("experiences.ExperienceTimeSlot")
        if slot is not None:
            yield (
                "guelaguetza_available_slots_total",
                "Available time slots from today on.",
                {},
                lambda: slot.objects.filter(
                    is_available=True, date__gte=timezone.localdate()
                ).count(),
            )


def _extra_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseGaugesCollector())
    # Process metrics with the original's prefix (this worker's process only).
    ProcessCollector(namespace="guelaguetza", registry=registry)
    return registry


def _scrape_time_collectors() -> list:
    """Collectors of the default registry that compute their values when scraped (e.g.
    the cache layer's hit rate). Multiprocess mode reads stored metrics from the files
    only, so these are added to its registry explicitly."""
    stored = (MetricWrapperBase, ProcessCollector, PlatformCollector, GCCollector)
    with REGISTRY._lock:  # prometheus_client has no public way to list collectors
        collectors = list(REGISTRY._collector_to_names)
    return [c for c in collectors if not isinstance(c, stored)]


# prometheus_client's per-process files: <type>_<mode>_<pid>.db; only the gauges whose
# mode starts with "live" are removed for a dead process (multiprocess.mark_process_dead).
_LIVE_FILE = re.compile(r"^gauge_live\w*?_(\d+)\.db$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def forget_dead_workers(path: str) -> list[int]:
    """Mark every process with live-gauge files in ``path`` that no longer exists as dead
    (its live gauges leave the aggregate). Returns the pids marked."""
    pids = set()
    for entry in Path(path).iterdir():
        found = _LIVE_FILE.match(entry.name)
        if found:
            pids.add(int(found.group(1)))
    dead = sorted(pid for pid in pids if not _alive(pid))
    for pid in dead:
        multiprocess.mark_process_dead(pid, path)
    return dead


def exposition() -> bytes:
    if directory := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        forget_dead_workers(directory)
        registry = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(registry)
        for collector in _scrape_time_collectors():
            registry.register(collector)
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_extra_registry())


def _denied(request) -> JsonResponse | None:
    token = settings.METRICS_TOKEN
    if not token:
        return None
    header = request.headers.get("Authorization", "")
    if not header:
        return JsonResponse(error_body("Missing authorization header"), status=401)
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        value.strip().encode(), token.encode()
    ):
        return JsonResponse(error_body("Invalid metrics token"), status=403)
    return None


@require_GET
def metrics(request):
    denied = _denied(request)
    if denied is not None:
        return denied
    return HttpResponse(exposition(), content_type=CONTENT_TYPE)
