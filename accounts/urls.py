from accounts.views import AuthViewSet
from guelaguetza.api.routers import router

r = router()
r.register("auth", AuthViewSet, basename="auth")
urlpatterns = r.urls
