from guelaguetza.api.routers import router

r = router()
urlpatterns = r.urls
