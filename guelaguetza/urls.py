from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from guelaguetza import admin_cache, handlers, health
from guelaguetza.observability import views as observability

urlpatterns = [
    path("", health.root, name="root"),
    path("health", health.health, name="health"),
    path("api/health", health.health, name="api-health"),  # F21: the UI sends HEAD here
    path("metrics", observability.metrics, name="metrics"),
    *admin_cache.urlpatterns,  # /admin/cache/, before the admin site's catch-all
    path("admin/", admin.site.urls),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # Each app's urls.py spells its full paths under /api/ (gamification/..., events...,
    # bookings/...), with DRF routers without trailing slashes.
    path("api/", include("accounts.urls")),
    path("api/", include("gamification.urls")),
    path("api/", include("events.urls")),
    path("api/", include("experiences.urls")),
]
if settings.BENCH_ENDPOINTS_ENABLED:
    # Bench-only views live in bench/, outside the product package; imported only here.
    from bench import views as bench_views

    urlpatterns.append(path("api/bench/floor", bench_views.floor, name="bench-floor"))
urlpatterns += [
    # Anything else under /api: the JSON 404 even with DEBUG on (no HTML debug page).
    re_path(r"^api(?:/.*)?$", handlers.api_not_found, name="api-not-found"),
]

handler400 = "guelaguetza.handlers.bad_request"
handler403 = "guelaguetza.handlers.forbidden"
handler404 = "guelaguetza.handlers.not_found"
handler500 = "guelaguetza.handlers.server_error"
