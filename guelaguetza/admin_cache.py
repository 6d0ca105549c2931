"""The cache page of the Django admin: /admin/cache/, staff only (README.md#operations).

Staff who fix data in the admin see here what the cache holds and can clear it: every
key family of the registry with its template, TTL, live key count (a SCAN, as
``manage.py cache_tree``: fine for an ops page, never on an API request) and its
service's hit rate (the counters /metrics sums, of every worker under gunicorn), Redis
health and this worker's circuit breaker. POST actions invalidate one family or one
entity's namespace (guelaguetza.cache_actions, shared with ``manage.py
cache_invalidate``); each is logged with the staff user who asked.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from guelaguetza.cache import FAMILIES, cache
from guelaguetza.cache.metrics import SERVICES, hit_rate, totals
from guelaguetza.cache.ops import family_counts
from guelaguetza.cache.transport import REDIS_ERRORS
from guelaguetza.cache_actions import Target, family_target, invalidate, namespace_target
from guelaguetza.health import redis_check

logger = logging.getLogger(__name__)

TEMPLATE = "admin/guelaguetza/cache.html"

# The admin index links to this page (templates/admin/guelaguetza/index.html adds it
# above the app list; the stock index template has no hook for extra pages).
admin.site.index_template = "admin/guelaguetza/index.html"


@require_http_methods(["GET", "HEAD", "POST"])
def cache_page(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render(request)
    action = request.POST.get("action")
    try:
        if action == "family":
            name = request.POST.get("family", "")
            if name not in FAMILIES:
                raise ValueError(f"unknown key family: {name!r}")
            what, target = f"family {name}", family_target(FAMILIES[name])
        elif action == "namespace":
            target = namespace_target(request.POST.get("namespace", ""))
            what = f"namespace {target.value}"
        else:
            raise ValueError("choose a family or a namespace to invalidate")
    except ValueError as exc:
        return _render(request, error=str(exc), status=400)
    try:
        unlinked = invalidate(target)
    except REDIS_ERRORS as exc:
        logger.warning("cache admin: %s could not invalidate %s: %s", _who(request), what, exc)
        return _render(
            request, error=f"Redis did not answer, nothing invalidated: {exc}", status=503
        )
    logger.info("cache admin: %s invalidated %s (%s)", _who(request), what, target.pattern)
    messages.success(request, _done(what, target, unlinked))
    return HttpResponseRedirect(reverse("admin-cache"))


def _who(request: HttpRequest) -> str:
    user = request.user
    return f"{user.get_username()} (id {user.pk})"


def _done(what: str, target: Target, unlinked: int | None) -> str:
    if target.scans:
        return f"{what}: {unlinked} keys unlinked (SCAN {target.pattern})"
    return (
        f"{what}: {target.pattern} invalidated (one generation bump); its stored keys are "
        "unreadable now and expire with their TTL, so the count falls only then"
    )


def _render(request: HttpRequest, *, error: str | None = None, status: int = 200):
    health = redis_check()
    counts = None
    if health == "ok":
        try:
            counts = family_counts(cache)
        except REDIS_ERRORS:
            health = "unavailable"
    t = totals()
    rates = {s: hit_rate(t["hits"][s], t["misses"][s]) for s in SERVICES}
    families = []
    for family in FAMILIES.values():
        target = family_target(family)
        families.append(
            {
                "name": family.name,
                "template": family.template,
                "description": family.description,
                "service": family.service,
                "ttl": settings.CACHE_TTLS[family.name],
                "count": None if counts is None else counts[family.name],
                "hit_rate": rates[family.service],
                "target": target.pattern,
                "scans": target.scans,
            }
        )
    services = [
        {
            "name": s,
            "hits": int(t["hits"][s]),
            "misses": int(t["misses"][s]),
            "errors": int(t["errors"][s]),
            "hit_rate": rates[s],
        }
        for s in SERVICES
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Cache",
        "families": families,
        "services": services,
        "redis": health,
        "breaker": cache.breaker.state,
        "breaker_failures": cache.breaker.failures,
        "bookkeeping": None if counts is None else {k: counts[k] for k in ("gen", "lock", "other")},
        "dbsize": cache.key_count() if health == "ok" else None,
        "prefix": cache.prefix,
        "error": error,
    }
    return TemplateResponse(request, TEMPLATE, context, status=status)


# Before ``admin/`` in guelaguetza/urls.py; admin_view makes it staff only (anyone else
# goes to the admin login) and CSRF-protected.
urlpatterns = [path("admin/cache/", admin.site.admin_view(cache_page), name="admin-cache")]
