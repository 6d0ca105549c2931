from gamification import views
from guelaguetza.api.routers import router

r = router()
r.register("gamification/me", views.MeViewSet, basename="gamification-me")
r.register("gamification/users", views.UserViewSet, basename="gamification-users")
r.register("gamification", views.GamificationViewSet, basename="gamification")
urlpatterns = r.urls
