from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
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
