"""/api/bookings/... (docs/api.md#bookings), included under /api/ by the project urls."""

from experiences import views
from guelaguetza.api.routers import router

r = router()
r.register("bookings/experiences", views.ExperienceViewSet, basename="experience")
r.register("bookings/slots", views.SlotViewSet, basename="experience-slot")
r.register("bookings/bookings", views.BookingViewSet, basename="booking")
r.register("bookings/host", views.HostViewSet, basename="host")
urlpatterns = r.urls
