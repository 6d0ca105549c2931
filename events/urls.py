from events.views import EventViewSet
from guelaguetza.api.routers import router

r = router()
# SimpleRouter emits the detail=False routes (events/my-rsvps) before events/{id}.
r.register("events", EventViewSet, basename="event")
urlpatterns = r.urls
