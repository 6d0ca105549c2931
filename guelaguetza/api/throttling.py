"""Rate limits (docs/api.md#rate-limits) as one DRF throttle, backed by Django's cache.

Scopes come from the request (``global`` always; ``auth`` for POST /api/auth/login and
/register; ``bookings`` for every POST under /api/bookings/), so views need no throttle
settings. Fixed windows: one pipelined INCR + EXPIRE NX per scope. Fail-open behind its
own circuit breaker, so a hung Redis neither refuses requests nor adds a timeout to each
(docs/architecture.md#redis-failure). The throttle runs before the permission check
(guelaguetza.api.views.ApiViewMixin), so a refused client is limited like any other.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from django.conf import settings
from django.core.signals import setting_changed
from django_redis import get_redis_connection
from prometheus_client import Counter
from rest_framework.throttling import BaseThrottle

from guelaguetza.api.errors import ApiError, error_body
from guelaguetza.cache.breaker import CircuitBreaker
from guelaguetza.cache.transport import REDIS_ERRORS

logger = logging.getLogger(__name__)

TOO_MANY = "Demasiadas solicitudes. Intenta de nuevo más tarde."
AUTH_PATHS = frozenset({"/api/auth/login", "/api/auth/register"})
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

rate_limit_errors_total = Counter(
    "guelaguetza_rate_limit_errors_total",
    "Rate-limit checks skipped because the cache failed (requests served: fail-open).",
)
rate_limited_total = Counter(
    "guelaguetza_rate_limited_total", "Requests refused with 429, by scope.", ["scope"]
)


class RateLimitBreaker(CircuitBreaker):
    """The cache layer's breaker with the rate limiter's own log lines: the same
    consecutive-failure transitions, each logged once, naming the error that caused it
    (the base class's lines say "cache", which is another Redis client)."""

    def log_opened(self, error: BaseException | None) -> None:
        logger.warning(
            "rate limits: Redis unreachable (%s); requests served without limits, "
            "next try in %.1f s",
            f"{type(error).__name__}: {error}" if error else "failing",
            self._reset_seconds(),
        )

    def log_closed(self) -> None:
        logger.warning("rate limits: Redis answers again; limits enforced")


breaker = RateLimitBreaker()


def _on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting in {"CACHES", "RATE_LIMITS_ENABLED"}:
        breaker.reset()


setting_changed.connect(
    _on_setting_changed, dispatch_uid="guelaguetza.api.throttling._on_setting_changed"
)


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int


@functools.cache
def parse_rate(text: str) -> Rate:
    """``"100/min"``, ``"5/m"``, ``"20/minute"``, ``"10/30s"`` -> Rate.

    Cached: every request checks its scopes' rates, which are a handful of settings."""
    count, _, period = text.strip().partition("/")
    digits = "".join(ch for ch in period if ch.isdigit())
    unit = period[len(digits) :].strip().lower()[:1]
    if unit not in PERIODS:
        raise ValueError(f"bad rate {text!r}")
    return Rate(int(count), int(digits or 1) * PERIODS[unit])


def scopes_for(request) -> list[str]:
    path = request.path
    scopes = ["global"]
    if request.method == "POST":
        if path in AUTH_PATHS:
            scopes.append("auth")
        elif path.startswith("/api/bookings/"):
            scopes.append("bookings")
    return scopes


@functools.cache
def _networks(entries: tuple[str, ...]) -> tuple[IPv4Network | IPv6Network, ...]:
    """TRUSTED_PROXIES parsed once per value, not per request and address (entries that
    are not networks are skipped)."""
    networks = []
    for entry in entries:
        try:
            networks.append(ip_network(entry.strip(), strict=False))
        except ValueError:
            continue
    return tuple(networks)


def _is_trusted(addr: str, trusted: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    try:
        ip = ip_address(addr.strip())
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_ip(request) -> str:
    """REMOTE_ADDR, unless it is a trusted proxy: then the right-most X-Forwarded-For
    address that is not itself a trusted proxy (left-most entries are client-forged)."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    trusted = _networks(tuple(settings.TRUSTED_PROXIES))
    if not trusted or not _is_trusted(remote, trusted):
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for addr in reversed([a for a in forwarded if a]):
        if not _is_trusted(addr, trusted):
            return addr
    return remote


class ScopedRateThrottle(BaseThrottle):
    """The project's only throttle (REST_FRAMEWORK DEFAULT_THROTTLE_CLASSES)."""

    def allow_request(self, request, view) -> bool:
        if not settings.RATE_LIMITS_ENABLED:
            return True
        user = getattr(request, "user", None)
        ident = f"u:{user.pk}" if user is not None and user.is_authenticated else None
        ident = ident or f"ip:{client_ip(request)}"
        rates = {
            "global": settings.RATE_LIMIT_GLOBAL,
            "auth": settings.RATE_LIMIT_AUTH,
            "bookings": settings.RATE_LIMIT_BOOKINGS,
        }
        now = time.time()
        checks = []
        for scope in scopes_for(request):
            rate = parse_rate(rates[scope])
            window = int(now // rate.period) * rate.period
            checks.append((scope, rate, window))
        if not breaker.allow():
            rate_limit_errors_total.inc()
            return True
        try:
            counts = self._hit(ident, checks)
        except REDIS_ERRORS as exc:  # RedisError, or no cluster node reachable at all
            # The breaker logs the outage once; a traceback per request would bury it.
            logger.debug("rate limit check failed; serving the request", exc_info=True)
            breaker.failure(exc)
            rate_limit_errors_total.inc()
            return True
        breaker.success()
        for (scope, rate, window), count in zip(checks, counts, strict=True):
            if count > rate.limit:
                rate_limited_total.labels(scope).inc()
                raise self._refusal(scope, rate, window, now)
        return True

    def _hit(self, ident: str, checks: list) -> list[int]:
        from django.core.cache import cache as django_cache

        client = get_redis_connection("default")
        pipe = client.pipeline(transaction=False)
        for scope, rate, window in checks:
            key = django_cache.make_key(f"rl:{scope}:{ident}:{window}")
            pipe.incr(key)
            pipe.expire(key, rate.period + 1, nx=True)
        results = pipe.execute()
        return [int(v) for v in results[0::2]]

    def _refusal(self, scope: str, rate: Rate, window: int, now: float) -> ApiError:
        reset_at = window + rate.period
        retry_after = max(1, math.ceil(reset_at - now))
        body = error_body(
            TOO_MANY, statusCode=429, retryAfter=retry_after, limit=rate.limit, remaining=0
        )
        if scope == "global":
            body["resetTime"] = retry_after
        headers = {
            "Retry-After": str(retry_after),
            "X-RateLimit-Limit": str(rate.limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(retry_after),
        }
        return ApiError(429, TOO_MANY, body=body, headers=headers)
