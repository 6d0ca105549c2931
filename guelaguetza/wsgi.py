"""The WSGI application: cached GETs answered in front of Django (guelaguetza.api.cached,
docs/cache.md "Hits"), everything else by Django."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guelaguetza.settings")
django_application = get_wsgi_application()

from guelaguetza.api.cached import CachedReadApp  # noqa: E402  (needs Django set up)

application = CachedReadApp(django_application)
