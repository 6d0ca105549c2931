"""/health (alias /api/health) per docs/api.md#get-health [F21], and GET / (service index).

Plain Django views: no authentication (the header is ignored), no throttling.
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db import DatabaseError, connections
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from guelaguetza.api.formats import iso
from guelaguetza.handlers import api_methods

logger = logging.getLogger(__name__)


def database_check(alias: str = "default") -> str:
    """'ok' or 'error'. The connect timeout is DB_CONNECT_TIMEOUT (3 s) and the query
    gets a short statement timeout, so a hung server cannot hang the probe."""
    conn = connections[alias]
    try:
        with conn.cursor() as cursor:
            cursor.execute("SET statement_timeout = 2000; SELECT 1; RESET statement_timeout")
        return "ok"
    except DatabaseError:
        logger.warning("health: database check failed", exc_info=True)
        # Drop the broken connection so the next request reconnects cleanly.
        conn.close_if_unusable_or_obsolete()
        return "error"


def redis_check() -> str:
    """'ok', 'unavailable' (cannot connect / timed out) or 'error' (Redis answered but
    the cache cannot use it: an error reply, a demoted master that answers PING but
    refuses writes, a cluster that is down, or the cache's breaker open while Redis
    answers). Uses the cache layer's client, hence its short timeouts."""
    from guelaguetza.cache import cache
    from guelaguetza.cache.breaker import CLOSED
    from guelaguetza.cache.transport import writable

    try:
        if not writable(cache.client):
            logger.warning("health: redis answers but is not a master (demoted?)")
            return "error"
    except (redis.ConnectionError, redis.TimeoutError, redis.exceptions.RedisClusterException):
        # (the last: a cluster client that reached none of its startup nodes)
        return "unavailable"
    except (redis.RedisError, OSError):
        logger.warning("health: redis check failed", exc_info=True)
        return "error"
    if cache.breaker.state is not CLOSED:
        # Reachable now, but the cache's own calls failed (READONLY, CROSSSLOT...).
        return "error"
    return "ok"


@api_methods("GET", "HEAD")  # also served as /api/health: JSON errors
def health(request):
    checks = {"database": database_check(), "redis": redis_check()}
    healthy = all(v in ("ok", "unavailable") for v in checks.values())
    body = {
        "status": "ok" if healthy else "degraded",
        "timestamp": iso(timezone.now()),
        "checks": checks,
    }
    # F21: the original always answered 200; a dead database is now a 503.
    return JsonResponse(body, status=503 if checks["database"] != "ok" else 200)


@require_GET
def root(request):
    return JsonResponse(
        {
            "name": "Guelaguetza Connect API",
            "version": settings.APP_VERSION,
            "endpoints": {
                "health": "/health",
                "metrics": "/metrics",
                "docs": "/api/docs",
                "schema": "/api/schema",
                "auth": "/api/auth",
                "gamification": "/api/gamification",
                "events": "/api/events",
                "bookings": "/api/bookings",
            },
        }
    )
